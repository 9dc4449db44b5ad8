// The words of the caption full-text index, kept beside it, so that a search's last word (also a prefix) becomes
// the words it starts. FTS5 answers a prefix term by merging the postings of every word it starts, whole, before
// the first match comes out (at 5M captions, 50-150 ms for a common word, whatever the rowid bounds or the cap);
// an OR of those words is read lazily, stops at the cap and seeks to rowid bounds. The list is written after each
// import, refresh and removal (see recordCaptionTerms), with the index's structure record as it was; when the
// index has changed since (rows written elsewhere, or a large index on the main thread until the dataset worker
// writes it), the list is not used and FTS5 expands the prefix itself: the same matches, slower.
import { isMainThread } from 'node:worker_threads';
import type { Db } from '../store/db';

/** Past this many words a prefix stays a prefix term (an OR of hundreds of words gains nothing). */
export const MAX_PREFIX_WORDS = 64;

/** Past this many captions in the index, the word list is not read on the main thread (about 0.3 s a million). */
export const TERMS_INLINE_CAPTIONS = 100_000;

/**
 * Rewrites the word list from the whole index (about 1.5 s at 5M captions), inside an import's last write. On
 * the main thread (a small import) only while the index is small: else the list stays older than the index, and
 * FTS5 expands prefixes until an import in the dataset worker writes the list again. True when written.
 */
export function recordCaptionTerms(db: Db, onMainThread = isMainThread): boolean {
  const indexed = (db.prepare('SELECT max(id) FROM captions').pluck().get() as number | null) ?? 0;
  if (onMainThread && indexed > TERMS_INLINE_CAPTIONS) return false;
  db.exec(`CREATE VIRTUAL TABLE IF NOT EXISTS temp.captions_vocab USING fts5vocab(main, captions_fts, 'row')`);
  db.exec('DELETE FROM caption_terms');
  db.exec('INSERT INTO caption_terms (term) SELECT term FROM temp.captions_vocab');
  // rowid 10 of the index's data is FTS5's structure record: every write to the index changes it
  db.prepare(
    `INSERT OR REPLACE INTO caption_terms_state (id, structure)
     VALUES (1, coalesce((SELECT block FROM captions_fts_data WHERE id = 10), x''))`,
  ).run();
  return true;
}

/** Whether the word list was written from the index as it is now (its structure record unchanged since). */
export function captionTermsCurrent(db: Db): boolean {
  const current = db
    .prepare(
      `SELECT (SELECT structure FROM caption_terms_state WHERE id = 1)
            = coalesce((SELECT block FROM captions_fts_data WHERE id = 10), x'')`,
    )
    .pluck()
    .get() as number | null;
  return current === 1;
}

/**
 * The indexed words that start with `prefix`, or null when the list cannot say: the word is not plain lower-case
 * ASCII letters and digits (the tokenizer folds other characters, so the list's order is not the word's), the list
 * is older than the index, or more than MAX_PREFIX_WORDS words start with it.
 */
export function prefixWords(db: Db, prefix: string): string[] | null {
  if (!/^[a-z0-9]+$/.test(prefix) || !captionTermsCurrent(db)) return null;
  // (x'F5' is no UTF-8 lead byte: every word that starts with the prefix sorts below prefix || x'F5')
  const words = db
    .prepare(
      `SELECT term FROM caption_terms WHERE term >= @prefix AND term < @prefix || CAST(x'F5' AS TEXT) LIMIT @limit`,
    )
    .pluck()
    .all({ prefix, limit: MAX_PREFIX_WORDS + 1 }) as string[];
  return words.length > MAX_PREFIX_WORDS ? null : words;
}
