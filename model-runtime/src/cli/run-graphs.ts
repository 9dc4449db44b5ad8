// `mome run-graphs --model DIR --inputs IN.json --out OUT.json`: feeds raw tensors to every graph of a model
// folder and writes every output as nested lists — to compare with one's own PyTorch code.
// IN.json: pixel_values [B,3,H,W], input_ids [B,L], attention_mask [B,L], pixel_values_left/right (NLVR2).
import fs from 'node:fs';
import * as ort from 'onnxruntime-node';
import { MomeModel } from '../model/model';
import { parseFlags } from './args';

const USAGE = 'usage: mome run-graphs --model DIR --inputs IN.json --out OUT.json [--device auto|cpu|cuda]';

function shapeOf(x: unknown): number[] {
  const dims: number[] = [];
  let cur = x;
  while (Array.isArray(cur)) {
    dims.push(cur.length);
    cur = cur[0];
  }
  return dims;
}

function tensor(name: string, value: unknown, type: 'float32' | 'int64'): ort.Tensor {
  const dims = shapeOf(value);
  const flat = (value as unknown[]).flat(Infinity) as number[];
  if (flat.length !== dims.reduce((a, b) => a * b, 1)) throw new Error(`${name} is a ragged list`);
  return type === 'int64'
    ? new ort.Tensor(
        'int64',
        BigInt64Array.from(flat, (v) => BigInt(v)),
        dims,
      )
    : new ort.Tensor('float32', Float32Array.from(flat), dims);
}

function nested(t: ort.Tensor): unknown {
  const data = Array.from(t.data as ArrayLike<number | bigint>, Number);
  const build = (dims: readonly number[], offset: number): unknown => {
    if (dims.length === 0) return data[offset];
    const [n, ...rest] = dims;
    const stride = rest.reduce((a, b) => a * b, 1);
    return Array.from({ length: n }, (_, i) => build(rest, offset + i * stride));
  };
  return build(t.dims, 0);
}

export async function runGraphsCommand(argv: string[]): Promise<number> {
  const f = parseFlags(argv, ['model', 'inputs', 'out', 'device'], USAGE);
  if (!f.model || !f.inputs || !f.out) throw new Error(USAGE);
  const inputs = JSON.parse(fs.readFileSync(f.inputs, 'utf8')) as Record<string, unknown>;
  const model = await MomeModel.load(f.model, { device: (f.device ?? 'auto') as 'auto' });
  const has = (k: string) => inputs[k] !== undefined;
  const px = (k: string) => tensor(k, inputs[k], 'float32');
  const text = () => ({
    input_ids: tensor('input_ids', inputs.input_ids, 'int64'),
    attention_mask: tensor('attention_mask', inputs.attention_mask, 'int64'),
  });
  const out: Record<string, unknown> = { provider: model.provider.provider };
  try {
    if (has('pixel_values'))
      out.image_embeds = nested((await model.runGraph('image', { pixel_values: px('pixel_values') })).image_embeds);
    if (has('input_ids')) out.text_embeds = nested((await model.runGraph('text', text())).text_embeds);
    if (has('pixel_values') && has('input_ids') && model.hasFusion) {
      const r = await model.runGraph('fusion', { pixel_values: px('pixel_values'), ...text() });
      out.pooled = nested(r.pooled);
      out.itm_logits = nested(r.itm_logits);
    }
    if (has('pixel_values_left') && has('pixel_values_right') && has('input_ids') && model.hasNlvr2) {
      const r = await model.runGraph('nlvr2', {
        pixel_values_left: px('pixel_values_left'),
        pixel_values_right: px('pixel_values_right'),
        ...text(),
      });
      out.nlvr2_logits = nested(r.nlvr2_logits);
    }
  } finally {
    await model.release();
  }
  fs.writeFileSync(f.out, JSON.stringify(out));
  console.error(
    `wrote ${Object.keys(out)
      .filter((k) => k !== 'provider')
      .join(', ')} to ${f.out} (${out.provider})`,
  );
  return 0;
}
