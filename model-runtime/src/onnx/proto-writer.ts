// A minimal ONNX ModelProto writer (protobuf wire format) for the small weight-free graphs the runtime builds
// itself (scoring, top-k). Field numbers are those of onnx.proto.
type Field = [number, 'varint', number | bigint] | [number, 'bytes', Uint8Array] | [number, 'string', string];

function varint(value: number | bigint): number[] {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

export function message(fields: Field[]): Uint8Array {
  const parts: number[] = [];
  for (const [no, kind, value] of fields) {
    if (kind === 'varint') {
      parts.push(...varint((no << 3) | 0), ...varint(value));
    } else {
      const bytes = kind === 'string' ? new TextEncoder().encode(value) : value;
      parts.push(...varint((no << 3) | 2), ...varint(bytes.length), ...bytes);
    }
  }
  return Uint8Array.from(parts);
}

export const ElemType = { FLOAT: 1, INT32: 6, INT64: 7, BOOL: 9 } as const;

/** ValueInfoProto for a tensor input/output; dims are numbers or symbolic names. */
export function tensorInfo(name: string, elemType: number, dims: (number | string)[]): Uint8Array {
  const shape = message(
    dims.map((d): Field => [1, 'bytes', message([typeof d === 'number' ? [1, 'varint', d] : [2, 'string', d]])]),
  );
  const tensorType = message([
    [1, 'varint', elemType],
    [2, 'bytes', shape],
  ]);
  return message([
    [1, 'string', name],
    [2, 'bytes', message([[1, 'bytes', tensorType]])],
  ]);
}

export type Attr = { name: string; int: number } | { name: string; ints: number[] };

function attribute(a: Attr): Uint8Array {
  if ('int' in a) {
    return message([
      [1, 'string', a.name],
      [3, 'varint', a.int],
      [20, 'varint', 2],
    ]);
  }
  return message([[1, 'string', a.name], ...a.ints.map((v): Field => [8, 'varint', v]), [20, 'varint', 7]]);
}

export function node(op: string, inputs: string[], outputs: string[], attrs: Attr[] = []): Uint8Array {
  return message([
    ...inputs.map((i): Field => [1, 'string', i]),
    ...outputs.map((o): Field => [2, 'string', o]),
    [3, 'string', `${op}_${outputs[0]}`],
    [4, 'string', op],
    ...attrs.map((a): Field => [5, 'bytes', attribute(a)]),
  ]);
}

export function model(
  name: string,
  nodes: Uint8Array[],
  inputs: Uint8Array[],
  outputs: Uint8Array[],
  opset = 17,
): Uint8Array {
  const graph = message([
    ...nodes.map((n): Field => [1, 'bytes', n]),
    [2, 'string', name],
    ...inputs.map((i): Field => [11, 'bytes', i]),
    ...outputs.map((o): Field => [12, 'bytes', o]),
  ]);
  return message([
    [1, 'varint', 8], // IR version 8 (ONNX 1.10+)
    [2, 'string', 'mome-studio'],
    [7, 'bytes', graph],
    [8, 'bytes', message([[2, 'varint', opset]])],
  ]);
}
