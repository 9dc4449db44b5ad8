// `mome search --model DIR --dataset DIR [--split test] (--text "…" | --queries FILE | --image FILE
//  [--target images|captions]) [--k 10] [--rerank K] [--json OUT] [--home DIR] [--device auto|cpu|cuda]`
// Ranks the split's images for each text query with the model's dual encoder, as the app's search does: the
// evaluation's cached image embeddings (encoded once where missing), its ranking and scores. Prints one JSON
// line per query, {"query", "results": [{"file", "imgid", "score"}]}, and writes the same lines to OUT.
// `--queries FILE`: one query per line (blank lines skipped). `--image FILE`: the images most like that image
// (itself left out), or with `--target captions` the split's captions ranked for it as the evaluation's
// image-to-text ranking ranks them: results [{"sentid", "imgid", "caption", "score"}]. Imports the dataset folder
// first if needed.
import fs from 'node:fs';
import path from 'node:path';
import { createBackend } from '../backend/index';
import { consoleContext } from '../jobs/console-context';
import { ALL_SPLITS } from '../eval/run-eval';
import { cacheKeys } from '../models/model-folder';
import { defaultHome } from '../store/home';
import {
  buildIndex,
  indexFromCache,
  loadSearchModel,
  searchImage,
  searchImageCaptions,
  searchText,
} from '../search/engine';
import { datasetAt } from './dataset-at';
import { optionPairs } from './options';

const USAGE =
  'usage: mome search --model DIR --dataset DIR [--split test] (--text "…" | --queries FILE | --image FILE [--target images|captions]) [--k 10] [--rerank K] [--json OUT] [--home DIR] [--device auto|cpu|cuda]\n  --queries FILE: one text query per line; output: one JSON line per query';

export async function searchCommand(argv: string[]): Promise<number> {
  const opts = optionPairs(argv, USAGE);
  if (!opts) return 2;
  const given = ['text', 'queries', 'image'].filter((o) => opts[o] !== undefined);
  if (!opts.model || !opts.dataset || given.length !== 1) {
    console.error(`mome search needs --model, --dataset and one of --text, --queries or --image.\n${USAGE}`);
    return 2;
  }
  const whole = (name: string, fallback: number, min: number) => {
    const v = opts[name] === undefined ? fallback : Number(opts[name]);
    if (!Number.isInteger(v) || v < min)
      throw new Error(`--${name} must be a whole number ≥ ${min}, got "${opts[name]}"`);
    return v;
  };
  const device = (opts.device ?? 'auto') as 'auto' | 'cpu' | 'cuda';
  const backend = createBackend({ home: opts.home ?? defaultHome(), mode: 'browser' });
  const ctx = consoleContext('search');
  try {
    const k = whole('k', 10, 1);
    const rerankK = whole('rerank', 0, 0);
    if (opts.image !== undefined && rerankK > 0) throw new Error('--rerank needs a text query');
    const target = opts.target ?? 'images';
    if (target !== 'images' && target !== 'captions')
      throw new Error(`--target must be images or captions, got "${target}"`);
    if (opts.target !== undefined && opts.image === undefined) throw new Error('--target goes with --image');
    const queries =
      opts.image !== undefined
        ? []
        : opts.text !== undefined
          ? [opts.text]
          : fs
              .readFileSync(opts.queries, 'utf8')
              .split(/\r?\n/)
              .filter((l) => l.trim());
    if (opts.image === undefined && (queries.length === 0 || queries.some((q) => !q.trim())))
      throw new Error(opts.text !== undefined ? 'the query is empty' : `${opts.queries} holds no query`);
    const dataset = await datasetAt(backend.db, opts.dataset);
    const split = opts.split === 'all' ? ALL_SPLITS : (opts.split ?? 'test');
    const dir = path.resolve(opts.model);
    const model = await loadSearchModel(dir, device, rerankK);
    const cacheDir = path.join(backend.home.cache, 'embeddings');
    try {
      const keys = cacheKeys(dir);
      const cached = await indexFromCache(backend.db, dataset.id, split, keys, model.config.embedDim, cacheDir);
      const index = cached.index ?? (await buildIndex(backend.db, model, keys, dataset.id, split, cacheDir, ctx));
      ctx.dispose();
      const out = opts.json ? fs.openSync(opts.json, 'w') : null;
      if (opts.image !== undefined) {
        const file = path.resolve(opts.image);
        const results =
          target === 'captions'
            ? (await searchImageCaptions(backend.db, model, index, cacheDir, { file, k }, ctx)).results.map((h) => ({
                sentid: h.sentid,
                imgid: numeric(h.imgid),
                caption: h.raw,
                score: h.score,
              }))
            : (await searchImage(model, index, { file, k })).results.map((h) => ({
                file: h.file,
                imgid: numeric(h.imgid),
                score: h.score,
              }));
        const line = JSON.stringify({ query: { image: opts.image }, results });
        console.log(line);
        if (out !== null) fs.writeSync(out, line + '\n');
      }
      for (const q of queries) {
        const r = await searchText(backend.db, model, index, cacheDir, { text: q, k, rerankK });
        if (r.query.truncated)
          console.error(
            `mome search: the query "${q.slice(0, 60)}" is ${r.query.tokens} tokens; the model reads ${r.query.maxTokens}, the rest is cut.`,
          );
        const line = JSON.stringify({
          query: q,
          results: r.results.map((h) => ({ file: h.file, imgid: numeric(h.imgid), score: h.score })),
        });
        console.log(line);
        if (out !== null) fs.writeSync(out, line + '\n');
      }
      if (out !== null) fs.closeSync(out);
    } finally {
      await model.release();
    }
    return 0;
  } catch (e) {
    ctx.dispose();
    console.error(`mome search: ${(e as Error).message}`);
    return 1;
  } finally {
    await backend.close();
  }
}

/** imgids as the dataset file writes them: numbers where they are numbers. */
function numeric(id: string): string | number {
  return /^\d+$/.test(id) ? Number(id) : id;
}
