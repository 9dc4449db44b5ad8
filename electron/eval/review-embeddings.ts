// The embeddings the review queue's diversity step compares: for each queue item, row for row, the cached
// dual-encoder embedding the evaluation run wrote (a caption: its text's; an image: its file's). Read from the
// run's embedding caches, never encoded: an item whose embedding is not cached (an NLVR2 example, a caption
// edited since, an image changed on disk) gets a row of zeros, which is a near-duplicate of nothing.
import type { Db } from '../store/db';
import { datasetRoot } from '../datasets/repository';
import { captionTexts, splitImages } from '../datasets/items';
import { textKey } from '../../model-runtime/src/index';
import { corrected, readCorrections } from './corrections';
import { cachedDim, embeddingKeys, openCaches, runCacheKeys } from './embed';
import { getEvalRun } from './repository';

/** A queue item as the queue names it: sentid, imgid (source id) or NLVR2 identifier. */
export interface ReviewItemKey {
  kind: 'caption' | 'image' | 'nlvr2';
  id: string | number;
}

export interface ReviewEmbeddings {
  /** row-major, one row of `dim` per item, in the items' order (zeros where none is cached) */
  embeddings: Float32Array;
  dim: number;
  /** how many items have a cached embedding */
  found: number;
}

/**
 * The cached embeddings of `items` under the evaluation run `runId`'s model, row for row; undefined when the
 * run left no embeddings in `cacheDir` (an NLVR2 run, a cleared cache) or none of the items has one.
 */
export async function reviewEmbeddings(
  db: Db,
  runId: number,
  cacheDir: string,
  items: readonly ReviewItemKey[],
): Promise<ReviewEmbeddings | undefined> {
  const run = getEvalRun(db, runId);
  if (run.task !== 'retrieval' || items.length === 0) return undefined;
  const keys = runCacheKeys(run);
  const dim = cachedDim(cacheDir, keys.texts);
  if (!dim) return undefined;
  const caches = openCaches(cacheDir, keys, dim);
  const out = new Float32Array(items.length * dim);
  let found = 0;
  const put = (row: number, v: Float32Array | undefined) => {
    if (!v) return;
    out.set(v, row * dim);
    found++;
  };

  const captionRows = items.flatMap((it, row) => (it.kind === 'caption' ? [row] : []));
  if (captionRows.length) {
    // the text the run embedded: the caption as corrected (what an evaluation reads), else as imported
    const fix = readCorrections(db, run.datasetId);
    const importedText = captionTexts(
      db,
      run.datasetId,
      captionRows.map((row) => Number(items[row].id)),
    );
    for (const row of captionRows) {
      const id = String(items[row].id);
      const imported = importedText.get(Number(id));
      if (imported === undefined) continue;
      const texts = [String(corrected(fix, 'caption', id, 'raw', imported)), imported];
      put(
        row,
        texts.map((t) => caches.texts.get(textKey(t))).find((v) => v !== undefined),
      );
    }
  }

  const imageRows = items.flatMap((it, row) => (it.kind === 'image' ? [row] : []));
  if (imageRows.length) {
    const bySource = new Map(splitImages(db, run.datasetId, run.split).map((im) => [im.source_id, im]));
    const rows = imageRows.filter((row) => bySource.has(String(items[row].id)));
    const { imageKeys } = await embeddingKeys(
      datasetRoot(db, run.datasetId),
      rows.map((row) => bySource.get(String(items[row].id))!),
      [],
    );
    rows.forEach((row, j) => put(row, caches.images.get(imageKeys[j])));
  }
  return found ? { embeddings: out, dim, found } : undefined;
}
