// Streams the elements of one top-level array of a large JSON file (Karpathy's dataset_coco.json is
// ~150 MB) without holding the file in one string: the bytes are scanned for the array's element
// boundaries and each element is handed to JSON.parse alone. Invalid UTF-8 and malformed JSON are
// reported with the line where they occur.
import fs from 'node:fs';
import { ImportError } from './errors';

export interface ArrayElement {
  value: unknown;
  index: number;
  line: number;
  /** Bytes of the file read so far (for progress). */
  bytesRead: number;
  totalBytes: number;
}

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;
const COMMA = 0x2c;

function isSpace(b: number) {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
}

/**
 * Yields every element of the array stored under `key` in the top-level object of `file`.
 * Other top-level keys are skipped (their values are scanned, not parsed).
 */
export async function* streamJsonArray(file: string, key: string): AsyncGenerator<ArrayElement> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const fail = (line: number, problem: string, hint: string): never => {
    throw new ImportError({ file, line, problem, hint });
  };
  const size = (await fs.promises.stat(file)).size;
  if (size === 0) fail(1, 'the file is empty (0 bytes)', 'Copy the annotation file again; it is incomplete.');

  // state
  let line = 1;
  let depth = 0; // nesting depth, counted across the whole document
  let inString = false;
  let escaped = false;
  let topKey = ''; // the last string read at depth 1 (a key of the top-level object)
  let keyBuf: number[] | null = null;
  let expectKey = true;
  let inTarget = false; // inside the wanted array (depth 2)
  let element: Buffer[] = [];
  let elementStart = -1;
  let elementLine = 0;
  let index = 0;
  let started = false;
  let sawTarget = false;
  let first = true;
  let bytesRead = 0;

  const stream = fs.createReadStream(file, { highWaterMark: 1 << 20 });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let buf = chunk;
    bytesRead += chunk.length;
    if (first) {
      first = false;
      if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
    }
    const out: ArrayElement[] = [];
    for (let i = 0; i < buf.length; i++) {
      const b = buf[i];
      if (b === NEWLINE) line++;
      if (inString) {
        if (keyBuf) keyBuf.push(b);
        if (escaped) escaped = false;
        else if (b === BACKSLASH) escaped = true;
        else if (b === QUOTE) {
          inString = false;
          if (keyBuf) {
            keyBuf.pop();
            try {
              topKey = JSON.parse(`"${decoder.decode(Buffer.from(keyBuf))}"`);
            } catch {
              fail(line, 'a key of the top-level object is not valid text', 'Check that the file is UTF-8 JSON.');
            }
            keyBuf = null;
            expectKey = false;
          }
        }
        continue;
      }
      if (!started) {
        if (isSpace(b)) continue;
        if (b !== OPEN_BRACE)
          fail(
            line,
            'the file does not start with a JSON object ("{")',
            'Pick the Karpathy annotation file (dataset_coco.json or dataset_flickr30k.json).',
          );
        started = true;
        depth = 1;
        continue;
      }
      if (b === QUOTE) {
        inString = true;
        if (depth === 1 && expectKey) keyBuf = [];
        if (inTarget && depth === 2 && elementStart === -1)
          fail(line, `an element of "${key}" is a string, not an object`, 'Each entry must be a JSON object.');
        continue;
      }
      if (
        inTarget &&
        depth === 2 &&
        elementStart === -1 &&
        !isSpace(b) &&
        b !== COMMA &&
        b !== CLOSE_BRACKET &&
        b !== OPEN_BRACE
      ) {
        fail(line, `an element of "${key}" is not an object`, 'Each entry must be a JSON object.');
      }
      if (b === OPEN_BRACE || b === OPEN_BRACKET) {
        if (depth === 1 && b === OPEN_BRACKET && topKey === key) {
          inTarget = true;
          sawTarget = true;
        } else if (inTarget && depth === 2) {
          elementStart = i;
          elementLine = line;
          element = [];
        }
        depth++;
      } else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
        depth--;
        if (depth < 0) fail(line, 'a closing bracket has no opening one', 'The file is malformed JSON.');
        if (inTarget && depth === 2 && elementStart !== -1) {
          element.push(buf.subarray(elementStart, i + 1));
          elementStart = -1;
          let text: string;
          try {
            text = decoder.decode(Buffer.concat(element));
          } catch {
            fail(
              elementLine,
              `entry ${index} of "${key}" holds bytes that are not UTF-8`,
              'Re-save the file as UTF-8.',
            );
          }
          let value: unknown;
          try {
            value = JSON.parse(text!);
          } catch (e) {
            fail(
              elementLine,
              `entry ${index} of "${key}" is malformed JSON (${(e as Error).message})`,
              'Fix or re-download the file.',
            );
          }
          out.push({ value, index: index++, line: elementLine, bytesRead, totalBytes: size });
        } else if (inTarget && depth === 1) {
          inTarget = false;
        }
        if (depth === 1) expectKey = false;
        if (depth === 0) started = true;
      } else if (b === COMMA && depth === 1) {
        expectKey = true;
      }
    }
    if (elementStart !== -1) {
      element.push(buf.subarray(elementStart));
      elementStart = 0;
    }
    for (const e of out) yield e;
  }
  if (inString || depth !== 0)
    fail(
      line,
      'the file ends in the middle of the JSON document (truncated?)',
      'Copy the annotation file again; it is incomplete.',
    );
  if (!sawTarget)
    fail(1, `the top-level object has no "${key}" array`, 'This is not a Karpathy-split annotation file.');
}
