// BERT's uncased WordPiece tokenizer, equal to Hugging Face's BertTokenizer for bert-base-uncased as the
// official VLMo code uses it (transformers 4.8): special tokens in the text are kept whole; basic
// tokenization removes control characters, maps whitespace to spaces, puts spaces around CJK ideographs,
// lower-cases, strips accents (NFD, drop Mn) and splits punctuation; then greedy longest-match WordPiece
// with '##' continuations, [UNK] for words over 100 characters. The Python twin is mome/tokenizer.py; one
// shared vector file checks that both agree.
import fs from 'node:fs';

const MAX_CHARS_PER_WORD = 100;
const SPECIALS = ['[UNK]', '[SEP]', '[PAD]', '[CLS]', '[MASK]'];

const isWhitespace = (ch: string) => ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || /^\p{Zs}$/u.test(ch);
const isControl = (ch: string) => !(ch === '\t' || ch === '\n' || ch === '\r') && /^\p{C}$/u.test(ch);

function isPunctuation(ch: string): boolean {
  const cp = ch.codePointAt(0)!;
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126))
    return true;
  return /^\p{P}$/u.test(ch);
}

function isCjk(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

// Python's str.split() separators (str.isspace), which BERT's whitespace_tokenize uses
// eslint-disable-next-line no-control-regex -- the separators Python splits on include control characters
const PY_SPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/u;
const pySplit = (s: string) => s.split(PY_SPACE).filter(Boolean);

/** BERT's BasicTokenizer (do_lower_case, tokenize_chinese_chars, strip_accents following lower-case). */
export function basicTokenize(text: string, lowercase = true): string[] {
  let cleaned = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0 || cp === 0xfffd || isControl(ch)) continue;
    if (isWhitespace(ch)) cleaned += ' ';
    else if (isCjk(cp)) cleaned += ` ${ch} `;
    else cleaned += ch;
  }
  const out: string[] = [];
  for (let token of pySplit(cleaned)) {
    if (lowercase)
      token = token
        .toLowerCase()
        .normalize('NFD')
        .replace(/\p{Mn}/gu, '');
    let current = '';
    for (const ch of token) {
      if (isPunctuation(ch)) {
        if (current) out.push(current);
        out.push(ch);
        current = '';
      } else current += ch;
    }
    if (current) out.push(current);
  }
  return out.flatMap(pySplit);
}

export interface EncodeOptions {
  maxLen?: number;
  pad?: boolean;
}

export interface BatchEncoding {
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  shape: [number, number];
}

export class WordPieceTokenizer {
  readonly vocab: Map<string, number>;
  readonly idToToken: string[];
  readonly maxLen: number;
  readonly lowercase: boolean;
  readonly cls: number;
  readonly sep: number;
  readonly pad: number;
  readonly unk: number;
  private readonly specialPattern: RegExp;

  private constructor(tokens: string[], opts: { maxLen?: number; lowercase?: boolean }) {
    this.idToToken = tokens;
    this.vocab = new Map();
    tokens.forEach((t, i) => {
      if (!this.vocab.has(t)) this.vocab.set(t, i);
    });
    const need = (t: string) => {
      const id = this.vocab.get(t);
      if (id === undefined) throw new Error(`The vocabulary has no ${t} token.`);
      return id;
    };
    this.cls = need('[CLS]');
    this.sep = need('[SEP]');
    this.pad = need('[PAD]');
    this.unk = need('[UNK]');
    this.maxLen = opts.maxLen ?? 40;
    this.lowercase = opts.lowercase ?? true;
    const present = SPECIALS.filter((s) => this.vocab.has(s)).map((s) => s.replace(/[[\]]/g, '\\$&'));
    this.specialPattern = new RegExp(`(${present.join('|')})`);
  }

  static fromText(vocabText: string, opts: { maxLen?: number; lowercase?: boolean } = {}): WordPieceTokenizer {
    const lines = vocabText.split('\n');
    if (lines.at(-1) === '') lines.pop();
    return new WordPieceTokenizer(
      lines.map((l) => l.replace(/\r$/, '')),
      opts,
    );
  }

  static fromFile(path: string, opts: { maxLen?: number; lowercase?: boolean } = {}): WordPieceTokenizer {
    return WordPieceTokenizer.fromText(fs.readFileSync(path, 'utf8'), opts);
  }

  private wordPiece(word: string, out: number[]): void {
    const chars = Array.from(word);
    if (chars.length > MAX_CHARS_PER_WORD) {
      out.push(this.unk);
      return;
    }
    const pieces: number[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let found: number | undefined;
      while (start < end) {
        const sub = (start > 0 ? '##' : '') + chars.slice(start, end).join('');
        found = this.vocab.get(sub);
        if (found !== undefined) break;
        end--;
      }
      if (found === undefined) {
        out.push(this.unk);
        return;
      }
      pieces.push(found);
      start = end;
    }
    out.push(...pieces);
  }

  /** Token ids without [CLS]/[SEP]. */
  tokenizeIds(text: string): number[] {
    const ids: number[] = [];
    for (const part of text.split(this.specialPattern)) {
      if (!part) continue;
      const special = this.vocab.get(part);
      if (special !== undefined && SPECIALS.includes(part)) {
        ids.push(special);
        continue;
      }
      for (const word of basicTokenize(part, this.lowercase)) this.wordPiece(word, ids);
    }
    return ids;
  }

  tokenize(text: string): string[] {
    return this.tokenizeIds(text).map((i) => this.idToToken[i]);
  }

  /** [CLS] tokens [SEP], truncated to maxLen; padded to maxLen when `pad`. */
  encode(text: string, opts: EncodeOptions = {}): { inputIds: number[]; attentionMask: number[] } {
    const maxLen = opts.maxLen ?? this.maxLen;
    const ids = [this.cls, ...this.tokenizeIds(text).slice(0, Math.max(0, maxLen - 2)), this.sep];
    const mask = ids.map(() => 1);
    if (opts.pad) {
      while (ids.length < maxLen) {
        ids.push(this.pad);
        mask.push(0);
      }
    }
    return { inputIds: ids, attentionMask: mask };
  }

  /** int64 tensors for ONNX Runtime: padded to maxLen ('max_length', as the official loader) or to the longest. */
  encodeBatch(texts: string[], opts: { maxLen?: number; pad?: 'max_length' | 'longest' } = {}): BatchEncoding {
    const maxLen = opts.maxLen ?? this.maxLen;
    const encoded = texts.map((t) => this.encode(t, { maxLen }));
    const L = opts.pad === 'longest' ? Math.max(1, ...encoded.map((e) => e.inputIds.length)) : maxLen;
    const inputIds = new BigInt64Array(texts.length * L).fill(BigInt(this.pad));
    const attentionMask = new BigInt64Array(texts.length * L);
    encoded.forEach((e, b) => {
      e.inputIds.forEach((id, j) => {
        inputIds[b * L + j] = BigInt(id);
        attentionMask[b * L + j] = 1n;
      });
    });
    return { inputIds, attentionMask, shape: [texts.length, L] };
  }
}
