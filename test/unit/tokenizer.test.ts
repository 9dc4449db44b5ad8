// The TypeScript WordPiece tokenizer is Hugging Face's BertTokenizer for bert-base-uncased and equals the
// Python twin (mome/tokenizer.py) that trains the model. The ids below were checked by hand against the real
// vocabulary (id = line number - 1); the shared vectors and Unicode block hashes are the contract with Python
// (model-runtime/python/tests/test_tokenizer.py reads the same files).
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UNICODE_VERSION, WordPieceTokenizer, basicTokenize } from '../../model-runtime/src/tokenizer';
import { findTorchPython } from '../../scripts/lib.mjs';

const repo = path.resolve(__dirname, '..', '..');
const VOCAB = path.join(repo, '..', 'shared', 'fixtures', 'bert-base-uncased', 'vocab.txt');
const NLVR2_DEV = path.join(repo, '..', 'shared', 'fixtures', 'nlvr2', 'dev.json');
const FIXTURES = path.join(repo, 'test', 'fixtures', 'tokenizer');
const tok = WordPieceTokenizer.fromFile(VOCAB, { maxLen: 40 });

function check(text: string, tokens: string[], ids: number[], t = tok) {
  expect(t.tokenize(text)).toEqual(tokens);
  expect(t.encode(text, { maxLen: 512 }).inputIds).toEqual([t.cls, ...ids, t.sep]);
}

describe('WordPiece tokenizer: hand-checked bert-base-uncased ids', () => {
  it('gives the Hugging Face example', () => {
    check('Hello, my dog is cute', ['hello', ',', 'my', 'dog', 'is', 'cute'], [7592, 1010, 2026, 3899, 2003, 10140]);
    expect(tok.encode('Hello, my dog is cute').inputIds).toEqual([101, 7592, 1010, 2026, 3899, 2003, 10140, 102]);
  });

  it('splits words into ## continuations, greedy longest first', () => {
    check('unaffable', ['una', '##ffa', '##ble'], [14477, 20961, 3468]);
    check('Straße', ['st', '##raße'], [2358, 27807]);
    check('x'.repeat(100), ['xx', ...Array(49).fill('##xx')], [22038, ...Array(49).fill(20348)]);
  });

  it('makes words over 100 characters (after accents are stripped) [UNK]', () => {
    check('x'.repeat(101), ['[UNK]'], [100]);
    check('é'.repeat(101), ['[UNK]'], [100]);
    check('e\u0301'.repeat(60), ['ee', ...Array(29).fill('##ee')], [25212, ...Array(29).fill(4402)]);
  });

  it('lower-cases and strips accents', () => {
    check('Café', ['cafe'], [7668]);
    check('résumé naïve', ['resume', 'naive'], [13746, 15743]);
    check('İstanbul', ['istanbul'], [9960]);
    check('한', ['ᄒ', '##ᅡ', '##ᆫ'], [1469, 30006, 30021]);
  });

  it('lower-cases one character at a time, as HF does: a final capital sigma becomes σ', () => {
    check('ΟΔΟΣ', ['ο', '##δ', '##ο', '##σ'], [1169, 29722, 29730, 29733]);
    check('οδός', ['ο', '##δ', '##ος'], [1169, 29722, 15297]);
  });

  it('splits punctuation and CJK ideographs, removes control characters, splits on any whitespace', () => {
    check(
      'state-of-the-art!',
      ['state', '-', 'of', '-', 'the', '-', 'art', '!'],
      [2110, 1011, 1997, 1011, 1996, 1011, 2396, 999],
    );
    check(
      "don't stop-me\u0000now",
      ['don', "'", 't', 'stop', '-', 'men', '##ow'],
      [2123, 1005, 1056, 2644, 1011, 2273, 5004],
    );
    check('東京', ['東', '京'], [1879, 1755]);
    check('a\tb\nc\r\nd\u2028e\u3000f', ['a', 'b', 'c', 'd', 'e', 'f'], [1037, 1038, 1039, 1040, 1041, 1042]);
    check('tab\u0000le \ufffd a\u200bb', ['table', 'ab'], [2795, 11113]);
    check('\ud800x', ['x'], [1060]); // a lone surrogate is a control character (Cs)
    check('', [], []);
    check(' \t\n ', [], []);
  });

  it('keeps special tokens written in the text whole, only in their exact spelling', () => {
    check('[CLS] a [MASK]', ['[CLS]', 'a', '[MASK]'], [101, 1037, 103]);
    check('a[SEP]b', ['a', '[SEP]', 'b'], [1037, 102, 1038]);
    check('[cls]', ['[', 'cl', '##s', ']'], [1031, 18856, 2015, 1033]);
    check('[CLS\u200b]', ['[', 'cl', '##s', ']'], [1031, 18856, 2015, 1033]);
    const cased = WordPieceTokenizer.fromFile(VOCAB, { lowercase: false });
    expect(cased.tokenize('[CLS\u200b]')).toEqual(['[CLS]']); // cleaned into a never_split token
  });

  it(`classifies characters by Unicode ${UNICODE_VERSION} (the Python's), not by this engine's ICU`, () => {
    // U+1FA75 (light blue heart) is assigned in Unicode 15: Python 3.11 (14.0) removes it as unassigned.
    expect(basicTokenize('a\u{1FA75}b c')).toEqual(['ab', 'c']);
  });
});

describe('WordPiece tokenizer: equal to the Python tokenizer', () => {
  it('gives the ids of the shared vectors', () => {
    const vectors = fs
      .readFileSync(path.join(FIXTURES, 'vectors.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { text: string; ids: number[] });
    expect(vectors.length).toBeGreaterThanOrEqual(500);
    const bad = vectors.filter(
      (v) => JSON.stringify(tok.encode(v.text, { maxLen: 512 }).inputIds) !== JSON.stringify(v.ids),
    );
    expect(bad.map((v) => v.text)).toEqual([]);
  });

  it('tokenizes every code point as the Python block hashes say', () => {
    const want = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'unicode-blocks.json'), 'utf8'));
    expect(want.unicode_version).toBe(UNICODE_VERSION);
    const size: number = want.block_size;
    for (const mode of ['lowercase', 'cased'] as const) {
      const bad: string[] = [];
      want[mode].forEach((expected: string, b: number) => {
        const chars: string[] = [];
        for (let cp = b * size; cp < (b + 1) * size; cp++) chars.push(String.fromCodePoint(cp));
        const tokens = basicTokenize(chars.join(' '), mode === 'lowercase');
        const hash = crypto.createHash('sha256').update(tokens.join('\n'), 'utf8').digest('hex').slice(0, 16);
        if (hash !== expected) bad.push(`U+${(b * size).toString(16).toUpperCase().padStart(4, '0')}`);
      });
      expect(bad, `${mode}: blocks whose basic tokens differ from Python's`).toEqual([]);
    }
  });

  it('gives the Python ids for the real NLVR2 dev sentences', () => {
    const python = findTorchPython();
    if (!python) throw new Error('no Python with torch found (set MOME_PYTHON)');
    const sentences = fs
      .readFileSync(NLVR2_DEV, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).sentence as string);
    const script = [
      'import sys, json',
      'from mome.tokenizer import WordPieceTokenizer',
      't = WordPieceTokenizer.from_file(sys.argv[1])',
      'for line in sys.stdin:',
      '    print(json.dumps(t.encode(json.loads(line), 40).input_ids, separators=(",", ":")))',
    ].join('\n');
    const out = execFileSync(python, ['-c', script, VOCAB], {
      input: sentences.map((s) => JSON.stringify(s)).join('\n'),
      env: { ...process.env, PYTHONPATH: path.join(repo, 'model-runtime', 'python') },
      maxBuffer: 1 << 26,
    })
      .toString()
      .trim()
      .split('\n');
    expect(out).toHaveLength(sentences.length);
    const diff = sentences.filter((s, i) => JSON.stringify(tok.encode(s).inputIds) !== out[i]);
    expect(diff).toEqual([]);
  });
});

describe('WordPiece tokenizer: encoding', () => {
  const t8 = WordPieceTokenizer.fromFile(VOCAB, { maxLen: 8 });

  it('truncates keeping [SEP] last, as HF truncation=True', () => {
    const e = t8.encode('one two three four five six seven eight nine');
    expect(e.inputIds).toEqual([101, 2028, 2048, 2093, 2176, 2274, 2416, 102]);
    expect(e.attentionMask).toEqual(Array(8).fill(1));
    expect(tok.encode('word '.repeat(100)).inputIds).toHaveLength(40);
  });

  it('pads with [PAD] and mask 0 when asked', () => {
    expect(t8.encode('a dog', { maxLen: 6, pad: true })).toEqual({
      inputIds: [101, 1037, 3899, 102, 0, 0],
      attentionMask: [1, 1, 1, 1, 0, 0],
    });
    expect(t8.encode('a dog').inputIds).toEqual([101, 1037, 3899, 102]);
    expect(t8.encode('', { maxLen: 4, pad: true }).inputIds).toEqual([101, 102, 0, 0]);
    expect(() => t8.encode('a', { maxLen: 1 })).toThrow(/maxLen must be an integer >= 2/);
  });

  it('batches into int64 tensors padded to max length, to the longest row, or not at all', () => {
    const texts = ['a dog', 'two red cats'];
    const b = t8.encodeBatch(texts, { maxLen: 6 });
    expect(b.shape).toEqual([2, 6]);
    expect(b.inputIds).toBeInstanceOf(BigInt64Array);
    expect(Array.from(b.inputIds, Number)).toEqual([101, 1037, 3899, 102, 0, 0, 101, 2048, 2417, 8870, 102, 0]);
    expect(Array.from(b.attentionMask, Number)).toEqual([1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0]);
    const longest = t8.encodeBatch(texts, { maxLen: 6, pad: 'longest' });
    expect(longest.shape).toEqual([2, 5]);
    expect(Array.from(longest.inputIds, Number)).toEqual([101, 1037, 3899, 102, 0, 101, 2048, 2417, 8870, 102]);
    expect(t8.encodeBatch(['a dog', 'a cat'], { pad: false }).shape).toEqual([2, 4]);
    expect(() => t8.encodeBatch(texts, { pad: false })).toThrow(/rows differ in length/);
    expect(t8.encodeBatch([], { pad: 'longest' }).shape).toEqual([0, 0]);
  });
});

describe('WordPiece tokenizer: vocabularies', () => {
  it("reads a vocabulary as HF's load_vocab and looks special tokens up by name", () => {
    const t = WordPieceTokenizer.fromText('[PAD]\r\n[UNK]\r[CLS]\n[SEP]\nhello\nhello\n');
    expect(t.vocab.get('hello')).toBe(5); // a repeated line keeps the later id
    expect([t.pad, t.unk, t.cls, t.sep, t.mask]).toEqual([0, 1, 2, 3, undefined]);
    expect(t.encode('hello world').inputIds).toEqual([2, 5, 1, 3]);
    expect(t.tokenize('[MASK]')).toEqual(['[UNK]']);
  });

  it('counts astral characters once against the 100-character limit', () => {
    const t = WordPieceTokenizer.fromText('[PAD]\n[UNK]\n[CLS]\n[SEP]\n😀\n##😀\n');
    expect(t.tokenize('😀'.repeat(100))).toEqual(['😀', ...Array(99).fill('##😀')]);
    expect(t.tokenize('😀'.repeat(101))).toEqual(['[UNK]']);
  });

  it('says which file is wrong and what to do', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mome-vocab-'));
    try {
      const file = path.join(dir, 'vocab.txt');
      fs.writeFileSync(file, '[PAD]\n[CLS]\n[SEP]\nhello\n');
      expect(() => WordPieceTokenizer.fromFile(file)).toThrow(`${file} has no [UNK] line`);
      expect(() => WordPieceTokenizer.fromFile(path.join(dir, 'missing.txt'))).toThrow(
        /Cannot read the WordPiece vocabulary .*missing\.txt/,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
