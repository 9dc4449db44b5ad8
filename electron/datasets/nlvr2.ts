// NLVR2 json-lines files as published: train.json, dev.json, test1.json (one example per line).
// Images: <identifier without its last field>-img0.png / -img1.png, in dev/ and test1/, and for train in
// images/train/<directory>/ where directory is a field of each train record.
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { ImportError } from './errors';
import { MAX_TEXT_LENGTH, type Nlvr2Record } from './records';
import { RecordChecker } from './validate';

const IDENTIFIER = /^([a-z0-9]+)-(\d+)-(\d+)-(\d+)$/;
const KNOWN = new Set(['identifier', 'sentence', 'label', 'directory']);

function splitDirs(split: string): string[] {
  return split === 'train' ? ['images/train', 'train'] : [split, `images/${split}`];
}

/** The folder that holds a split's images (the first candidate that exists). */
export function nlvr2ImageDir(root: string, split: string): string {
  const dirs = splitDirs(split);
  return dirs.find((d) => fs.existsSync(path.join(root, d))) ?? dirs[0];
}

export async function* readNlvr2(
  root: string,
  file: string,
  onProgress: (done: number, total: number, records: number) => void,
): AsyncGenerator<Nlvr2Record> {
  const rel = path.basename(file);
  const split = rel.replace(/\.jsonl?$/, '');
  const total = (await fs.promises.stat(file)).size;
  if (total === 0) {
    throw new ImportError({
      file: rel,
      line: 1,
      problem: 'the file is empty (0 bytes)',
      hint: 'Copy the annotation file again; it is incomplete.',
    });
  }
  const imageDir = nlvr2ImageDir(root, split);
  const stream = fs.createReadStream(file, { encoding: 'utf8' });
  const lines = readline.createInterface({ input: stream, crlfDelay: Infinity });
  let lineNo = 0;
  let count = 0;
  for await (const text of lines) {
    lineNo++;
    if (text.trim() === '') continue;
    // the decoder replaces invalid UTF-8 with U+FFFD, which no published NLVR2 line contains
    if (text.includes('\uFFFD')) {
      throw new ImportError({
        file: rel,
        line: lineNo,
        problem: 'the line holds bytes that are not UTF-8',
        hint: 'Re-save the file as UTF-8.',
      });
    }
    const check = new RecordChecker(rel, lineNo, `line ${lineNo}`);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new ImportError({
        file: rel,
        line: lineNo,
        problem: `malformed JSON (${(e as Error).message})`,
        hint: 'Each line must be one JSON object.',
      });
    }
    const rec = check.object(value, '(line)');
    const identifier = check.string(rec, 'identifier', 200);
    const m = IDENTIFIER.exec(identifier);
    if (!m) check.fail('identifier', `"${identifier}" is not of the form split-a-b-c`);
    const sentence = check.string(rec, 'sentence', MAX_TEXT_LENGTH);
    let label: 0 | 1 | null = null;
    if (rec.label !== undefined) {
      if (rec.label === 'True' || rec.label === true) label = 1;
      else if (rec.label === 'False' || rec.label === false) label = 0;
      else check.fail('label', `expected "True" or "False", got ${JSON.stringify(rec.label)}`);
    }
    const base = identifier.slice(0, identifier.lastIndexOf('-'));
    let dir = imageDir;
    if (split === 'train') {
      const d = rec.directory;
      if (!(typeof d === 'number' || (typeof d === 'string' && /^\d+$/.test(d))))
        check.fail('directory', 'train records need the numeric "directory" field');
      dir = path.posix.join(imageDir, String(d));
    }
    const extra: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(rec)) if (!KNOWN.has(k)) extra[k] = v;
    if (rec.directory !== undefined) extra.directory = rec.directory;
    count++;
    if (count % 1000 === 0) onProgress(stream.bytesRead, total, count);
    yield {
      identifier,
      split,
      sentence,
      label,
      leftFile: path.posix.join(dir, `${base}-img0.png`),
      rightFile: path.posix.join(dir, `${base}-img1.png`),
      flags: [],
      extra,
    };
  }
  onProgress(total, total, count);
}
