import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { WordPieceTokenizer, basicTokenize } from '../../model-runtime/src/tokenizer';
import { findTorchPython } from '../../scripts/lib.mjs';

const repo = path.resolve(__dirname, '..', '..');
const VOCAB = path.join(repo, '..', 'shared', 'fixtures', 'bert-base-uncased', 'vocab.txt');
const NLVR2_DEV = path.join(repo, '..', 'shared', 'fixtures', 'nlvr2', 'dev.json');
const vectors = fs
  .readFileSync(path.join(repo, 'test', 'fixtures', 'tokenizer', 'vectors.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as { text: string; ids: number[] });
const tok = WordPieceTokenizer.fromFile(VOCAB, { maxLen: 40 });

describe('WordPiece tokenizer (bert-base-uncased)', () => {
  it('gives the ids Hugging Face gives for known sentences', () => {
    expect(tok.encode('Hello, my dog is cute').inputIds).toEqual([101, 7592, 1010, 2026, 3899, 2003, 10140, 102]);
    expect(tok.tokenize('unaffable')).toEqual(['una', '##ffa', '##ble']);
    expect(tok.tokenize('Café naïve')).toEqual(['cafe', 'naive']);
    expect(tok.tokenize('東京')).toEqual(['東', '京']);
    expect(tok.tokenize('[CLS] a [MASK]')).toEqual(['[CLS]', 'a', '[MASK]']);
    expect(tok.tokenize('x'.repeat(101))).toEqual(['[UNK]']);
    expect(basicTokenize("don't stop-me\u0000now")).toEqual(['don', "'", 't', 'stop', '-', 'menow']);
  });

  it(`equals the shared vectors (${vectors.length} sentences) that the Python tokenizer is also tested against`, () => {
    expect(vectors.length).toBeGreaterThanOrEqual(500);
    const bad = vectors.filter(
      (v) => JSON.stringify(tok.encode(v.text, { maxLen: 512 }).inputIds) !== JSON.stringify(v.ids),
    );
    expect(bad.map((v) => v.text)).toEqual([]);
  });

  it('equals the Python tokenizer on the real NLVR2 dev sentences', () => {
    const python = findTorchPython();
    if (!python) throw new Error('no Python with torch found');
    const sentences = fs
      .readFileSync(NLVR2_DEV, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).sentence as string);
    const out = execFileSync(
      python,
      [
        '-c',
        'import sys, json\nfrom mome.tokenizer import WordPieceTokenizer\nt = WordPieceTokenizer.from_file(sys.argv[1])\nfor line in sys.stdin:\n    print(json.dumps(t.encode(json.loads(line), 40)[0]))',
        VOCAB,
      ],
      {
        input: sentences.map((s) => JSON.stringify(s)).join('\n'),
        env: { ...process.env, PYTHONPATH: path.join(repo, 'model-runtime', 'python') },
        maxBuffer: 1 << 26,
      },
    )
      .toString()
      .trim()
      .split('\n');
    expect(out).toHaveLength(sentences.length);
    const diff = sentences.filter(
      (s, i) => JSON.stringify(tok.encode(s).inputIds) !== JSON.stringify(JSON.parse(out[i])),
    );
    expect(diff).toEqual([]);
  });

  it('truncates keeping [SEP] last, pads to max length with a mask, and batches int64 tensors', () => {
    const long = 'word '.repeat(100);
    const e = tok.encode(long, { maxLen: 8 });
    expect(e.inputIds).toHaveLength(8);
    expect(e.inputIds[0]).toBe(101);
    expect(e.inputIds[7]).toBe(102);
    const p = tok.encode('a dog', { maxLen: 6, pad: true });
    expect(p.inputIds).toEqual([101, 1037, 3899, 102, 0, 0]);
    expect(p.attentionMask).toEqual([1, 1, 1, 1, 0, 0]);
    const b = tok.encodeBatch(['a dog', 'two red cats'], { maxLen: 6 });
    expect(b.shape).toEqual([2, 6]);
    expect(Array.from(b.inputIds.subarray(6, 12)).map(Number)).toEqual(
      tok.encode('two red cats', { maxLen: 6, pad: true }).inputIds,
    );
    expect(Array.from(b.attentionMask.subarray(0, 6)).map(Number)).toEqual([1, 1, 1, 1, 0, 0]);
  });
});
