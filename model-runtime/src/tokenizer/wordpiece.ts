// BERT's WordPiece tokenizer, equal to Hugging Face's BertTokenizer for bert-base-uncased as the official
// VLMo code calls it (transformers 4.8.1: padding="max_length", truncation=True, max_length=max_text_len):
// special tokens written in the text are kept whole, the rest goes through basicTokenize, then greedy
// longest-match-first WordPiece with '##' continuations and [UNK] for words over 100 code points or that
// cannot be spelled; [CLS] … [SEP], truncated keeping [SEP] last; [PAD] and attention mask 0 after.
// Special-token ids are looked up by name: a tiny model's own vocabulary has them elsewhere than BERT's.
import fs from 'node:fs';
import { SPECIAL_TOKENS, basicTokenize } from './basic';

const MAX_CHARS_PER_WORD = 100;
const SPECIAL_SPLIT = new RegExp(`(${SPECIAL_TOKENS.map((t) => t.replace(/[[\]]/g, '\\$&')).join('|')})`);
const WORD_CACHE_LIMIT = 100_000; // distinct words remembered; caption vocabularies are far smaller

export interface TokenizerOptions {
  /** Sequence length including [CLS] and [SEP] (mome.json's max_text_len). Default 40, VLMo's. */
  maxLen?: number;
  /** Lower-case and strip accents (uncased BERT). Default true. */
  lowercase?: boolean;
}

export interface EncodeOptions {
  maxLen?: number;
  /** Pad to maxLen with [PAD] (attention mask 0). */
  pad?: boolean;
}

export interface Encoding {
  inputIds: number[];
  attentionMask: number[];
}

export type BatchPadding = 'max_length' | 'longest' | false;

/** int64 tensors as ONNX Runtime takes them, row-major [B, L]. */
export interface BatchEncoding {
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  shape: [number, number];
}

function checkMaxLen(maxLen: number, where: string): number {
  if (!Number.isInteger(maxLen) || maxLen < 2)
    throw new Error(`${where}: maxLen must be an integer >= 2 (room for [CLS] and [SEP]), not ${maxLen}`);
  return maxLen;
}

/** Lines as HF's load_vocab reads them: universal newlines, one token per line, the last newline optional. */
export function readVocabLines(text: string): string[] {
  const lines = text.split(/\r\n|\r|\n/);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

export class WordPieceTokenizer {
  readonly vocab = new Map<string, number>();
  readonly maxLen: number;
  readonly lowercase: boolean;
  readonly cls: number;
  readonly sep: number;
  readonly pad: number;
  readonly unk: number;
  readonly mask: number | undefined;
  private readonly wordCache = new Map<string, number[]>();

  constructor(
    readonly idToToken: string[],
    opts: TokenizerOptions = {},
    readonly source = 'vocabulary',
  ) {
    idToToken.forEach((t, i) => this.vocab.set(t, i)); // a repeated line takes the later id, as HF's load_vocab
    const need = (name: string) => {
      const id = this.vocab.get(name);
      if (id === undefined)
        throw new Error(
          `${source} has no ${name} line: a BERT WordPiece vocabulary lists [PAD], [UNK], [CLS] and [SEP] ` +
            '(and [MASK]) one token per line; use the vocab.txt that came with the checkpoint.',
        );
      return id;
    };
    this.cls = need('[CLS]');
    this.sep = need('[SEP]');
    this.pad = need('[PAD]');
    this.unk = need('[UNK]');
    this.mask = this.vocab.get('[MASK]');
    this.maxLen = checkMaxLen(opts.maxLen ?? 40, source);
    this.lowercase = opts.lowercase ?? true;
  }

  static fromText(vocabText: string, opts: TokenizerOptions = {}, source = 'vocabulary'): WordPieceTokenizer {
    return new WordPieceTokenizer(readVocabLines(vocabText), opts, source);
  }

  static fromFile(vocabPath: string, opts: TokenizerOptions = {}): WordPieceTokenizer {
    let text: string;
    try {
      text = fs.readFileSync(vocabPath, 'utf8');
    } catch (e) {
      throw new Error(`Cannot read the WordPiece vocabulary ${vocabPath}: ${(e as Error).message}`);
    }
    return WordPieceTokenizer.fromText(text, opts, vocabPath);
  }

  get size(): number {
    return this.idToToken.length;
  }

  private wordPiece(word: string, out: number[]): void {
    const cached = this.wordCache.get(word);
    if (cached) {
      for (const id of cached) out.push(id);
      return;
    }
    // UTF-16 offsets of the code points: HF counts and slices characters, not code units.
    const offsets: number[] = [];
    for (let i = 0; i < word.length; i++) {
      offsets.push(i);
      const u = word.charCodeAt(i);
      if (u >= 0xd800 && u <= 0xdbff && i + 1 < word.length) {
        const v = word.charCodeAt(i + 1);
        if (v >= 0xdc00 && v <= 0xdfff) i++;
      }
    }
    offsets.push(word.length);
    const n = offsets.length - 1;
    let pieces: number[] = [];
    if (n > MAX_CHARS_PER_WORD) pieces = [this.unk];
    else {
      let start = 0;
      while (start < n) {
        let end = n;
        let found: number | undefined;
        while (start < end) {
          const sub = word.slice(offsets[start], offsets[end]);
          found = this.vocab.get(start > 0 ? `##${sub}` : sub);
          if (found !== undefined) break;
          end--;
        }
        if (found === undefined) {
          pieces = [this.unk];
          break;
        }
        pieces.push(found);
        start = end;
      }
    }
    if (this.wordCache.size >= WORD_CACHE_LIMIT) this.wordCache.clear();
    this.wordCache.set(word, pieces);
    for (const id of pieces) out.push(id);
  }

  /** Token ids without [CLS]/[SEP]; stops once `limit` ids are known (truncation needs no more). */
  tokenizeIds(text: string, limit = Infinity): number[] {
    const ids: number[] = [];
    const parts = text.split(SPECIAL_SPLIT);
    for (let i = 0; i < parts.length && ids.length < limit; i++) {
      if (i % 2 === 1)
        ids.push(this.vocab.get(parts[i]) ?? this.unk); // a special token written in the text
      else if (parts[i]) for (const word of basicTokenize(parts[i], this.lowercase)) this.wordPiece(word, ids);
    }
    return ids.length > limit ? ids.slice(0, limit) : ids;
  }

  tokenize(text: string): string[] {
    return this.tokenizeIds(text).map((id) => this.idToToken[id]);
  }

  convertIdsToTokens(ids: Iterable<number>): string[] {
    return Array.from(ids, (id) => this.idToToken[id] ?? '[UNK]');
  }

  /** [CLS] tokens [SEP], truncated to maxLen keeping [SEP] last (HF truncation=True); padded when `pad`. */
  encode(text: string, opts: EncodeOptions = {}): Encoding {
    const maxLen = checkMaxLen(opts.maxLen ?? this.maxLen, 'encode');
    const inputIds = [this.cls, ...this.tokenizeIds(text, maxLen - 2), this.sep];
    const attentionMask = inputIds.map(() => 1);
    if (opts.pad)
      while (inputIds.length < maxLen) {
        inputIds.push(this.pad);
        attentionMask.push(0);
      }
    return { inputIds, attentionMask };
  }

  /**
   * A batch as int64 tensors for ONNX Runtime. `pad`: 'max_length' pads every row to maxLen (as the official
   * loader does; the default), 'longest' to the longest row, false requires rows of one length.
   */
  encodeBatch(texts: readonly string[], opts: { maxLen?: number; pad?: BatchPadding } = {}): BatchEncoding {
    const maxLen = checkMaxLen(opts.maxLen ?? this.maxLen, 'encodeBatch');
    const pad = opts.pad ?? 'max_length';
    const rows = texts.map((t) => this.encode(t, { maxLen }).inputIds);
    const longest = rows.reduce((m, r) => Math.max(m, r.length), 0);
    if (pad === false && rows.some((r) => r.length !== longest))
      throw new Error("encodeBatch: rows differ in length with pad: false; pass pad: 'longest' or 'max_length'");
    const width = pad === 'max_length' ? maxLen : longest;
    const inputIds = new BigInt64Array(rows.length * width).fill(BigInt(this.pad));
    const attentionMask = new BigInt64Array(rows.length * width);
    rows.forEach((row, b) => {
      for (let j = 0; j < row.length; j++) {
        inputIds[b * width + j] = BigInt(row[j]);
        attentionMask[b * width + j] = 1n;
      }
    });
    return { inputIds, attentionMask, shape: [rows.length, width] };
  }
}
