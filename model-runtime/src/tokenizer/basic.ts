// BERT's basic tokenization as Hugging Face's BertTokenizer runs it for bert-base-uncased, one pass over the
// code points: lower-case each character (PreTrainedTokenizer.tokenize does this before BasicTokenizer, so a
// final capital sigma becomes 'σ', not 'ς'), drop U+0000, U+FFFD and control characters, split on whitespace,
// make each CJK ideograph its own word, then per word: NFD and drop Mn marks (when lower-casing) and split
// off punctuation. Character classes come from unicode-classes.ts (generated from Python's unicodedata), not
// from this engine's ICU, so Python (training) and TypeScript (inference) agree on every code point.
import { CHAR_CLASS_RUNS } from './unicode-classes';

/** BertTokenizer.all_special_tokens: kept whole in the text, never lower-cased or split. */
export const SPECIAL_TOKENS = ['[UNK]', '[SEP]', '[PAD]', '[CLS]', '[MASK]'] as const;
const SPECIALS = new Set<string>(SPECIAL_TOKENS);

// The classes of tools/make-tokenizer-vectors.py.
const REMOVED = 1;
const SPACE = 2;
const CJK = 3;
const PUNCT = 4;
const MARK = 5;
const SPLIT_SPACE = 6;

let classTable: Uint8Array | undefined;

/** One byte per code point (1.1 MB), decoded once: a lookup is cheaper than a Unicode regex per character. */
function charClasses(): Uint8Array {
  if (classTable) return classTable;
  const table = new Uint8Array(0x110000);
  let cp = 0;
  for (const run of CHAR_CLASS_RUNS.split(',')) {
    if (!run) continue;
    const n = parseInt(run.slice(1), 36);
    table.fill(run.charCodeAt(0) - 48, cp, cp + n);
    cp += n;
  }
  if (cp !== 0x110000)
    throw new Error(
      `model-runtime/src/tokenizer/unicode-classes.ts covers ${cp} code points, not 1114112: ` +
        'regenerate it with tools/make-tokenizer-vectors.py',
    );
  return (classTable = table);
}

const lowerCache = new Map<number, string>();

/** Python's chr(cp).lower(): one character at a time, so no context rules (final sigma). */
function lowerChar(cp: number, ch: string): string {
  if (cp < 128) return cp >= 65 && cp <= 90 ? String.fromCharCode(cp + 32) : ch;
  let lower = lowerCache.get(cp);
  if (lower === undefined) {
    lower = ch.toLowerCase();
    lowerCache.set(cp, lower);
  }
  return lower;
}

/** Strip accents (when lower-casing) and split off punctuation: BasicTokenizer's per-word steps. */
function finishWord(word: string, ascii: boolean, lowercase: boolean, classes: Uint8Array, out: string[]): void {
  if (SPECIALS.has(word)) {
    out.push(word); // never_split: only reachable in cased mode, e.g. "[CLS\u200b]" cleaned to "[CLS]"
    return;
  }
  // BasicTokenizer lower-cases the word again; after the per-character pass that changes nothing.
  const text = lowercase && !ascii ? word.normalize('NFD') : word;
  let current = '';
  for (const ch of text) {
    const c = classes[ch.codePointAt(0)!];
    if (c === MARK && lowercase) continue;
    if (c === PUNCT) {
      if (current) out.push(current);
      out.push(ch);
      current = '';
    } else if (c === SPACE || c === SPLIT_SPACE) {
      // NFD never yields whitespace inside a word; kept for fidelity to HF's final whitespace split
      if (current) out.push(current);
      current = '';
    } else current += ch;
  }
  if (current) out.push(current);
}

/**
 * The basic tokens of `text` (no special-token handling): with `lowercase`, what HF's BertTokenizer makes of
 * text without special tokens; equal to Python's `basic_tokenize(lower_each_char(text))` in mome.tokenizer.
 */
export function basicTokenize(text: string, lowercase = true): string[] {
  const classes = charClasses();
  const out: string[] = [];
  let word = '';
  let ascii = true;
  const flush = () => {
    if (word) finishWord(word, ascii, lowercase, classes, out);
    word = '';
    ascii = true;
  };
  const take = (cp: number, ch: string, c: number) => {
    if (c === REMOVED) return;
    if (c === SPACE || c === SPLIT_SPACE) flush();
    else if (c === CJK) {
      flush();
      finishWord(ch, false, lowercase, classes, out); // compatibility ideographs change under NFD
    } else {
      word += ch;
      if (cp >= 128) ascii = false;
    }
  };
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    const c = classes[cp];
    // Unassigned code points are removed before their (engine-dependent) case mapping could matter.
    if (c === REMOVED) continue;
    const lower = lowercase ? lowerChar(cp, ch) : ch;
    if (lower === ch) take(cp, ch, c);
    else
      for (const l of lower) {
        const lcp = l.codePointAt(0)!;
        take(lcp, l, classes[lcp]);
      }
  }
  flush();
  return out;
}
