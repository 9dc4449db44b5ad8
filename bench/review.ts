// `npm run bench -- review [--images N]`: the review queue's two waits.
// - Ordering: combining the signals and ordering a queue of 1,800 / 6,000 / 12,000 items with 256-d embeddings
//   (a fifth of the items in clusters of five near-duplicates, cosine about 0.97, with close scores: the case
//   the diversity step has work in), against the baseline of the same queue ordered by score alone, in the same
//   run; with the worst number of near-duplicates in any 50 consecutive items of each order.
// - The whole queue of a COCO-Karpathy test split (25,000 captions): reading its cached embeddings and ordering it.
// - Next item (goal <= 100 ms): from a decision to the next item's data, through the dispatcher on a real SQLite
//   file of the COCO-Karpathy shape (123,287 images, 616,767 captions; --images N for fewer) with a stored
//   evaluation run of its test split: editLabels (the decision's label edits) then getEvalItemDetail (the next
//   item in full: text, image, its top-10), for caption items and for image items.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createBackend } from '../electron/backend/index';
import { importDataset } from '../electron/datasets/importer';
import { splitImages } from '../electron/datasets/items';
import { saveEvalRun } from '../electron/eval/repository';
import { splitCaptions } from '../electron/eval/retrieval-eval';
import { decisionEdits, type ReviewDecision } from '../electron/api/review-decisions';
import {
  DEFAULT_REVIEW_WEIGHTS,
  combineScores,
  marginUncertainty,
  orderQueue,
  worstNearDuplicatesPerWindow,
} from '../electron/eval/review-score';
import { reviewEmbeddings } from '../electron/eval/review-embeddings';
import type { ItemRow } from '../electron/eval/types';
import { EmbeddingCache, rng, textKey } from '../model-runtime/src/index';
import { writeKarpathyScale } from './karpathy-scale';

const DIM = 256;
const SIZES = [1800, 6000, 12000];
const log = (m: string) => process.stderr.write(`review bench: ${m}\n`);
const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const round = (x: number) => Math.round(x * 100) / 100;

/** `n` unit vectors and margins: a fifth of them in clusters of five near-duplicates with close margins. */
function queueData(n: number, seed: number) {
  const random = rng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const emb = new Float32Array(n * DIM);
  const margin = new Float32Array(n);
  const unit = (row: number) => {
    let s = 0;
    for (let d = 0; d < DIM; d++) s += emb[row * DIM + d] ** 2;
    const inv = 1 / Math.sqrt(s);
    for (let d = 0; d < DIM; d++) emb[row * DIM + d] *= inv;
  };
  const clustered = Math.floor(n / 5 / 5) * 5;
  for (let i = 0; i < n; i++) {
    const centre = i < clustered && i % 5 !== 0 ? i - (i % 5) : -1;
    for (let d = 0; d < DIM; d++)
      emb[i * DIM + d] = centre >= 0 ? emb[centre * DIM + d] + 0.012 * gauss() : gauss() / Math.sqrt(DIM);
    unit(i);
    margin[i] = centre >= 0 ? margin[centre] + 0.005 * gauss() : 0.3 * gauss();
  }
  return { emb, margin };
}

function timeOrder(n: number) {
  const { emb, margin } = queueData(n, n);
  const build = (diverse: boolean) => {
    const t0 = performance.now();
    const scores = combineScores(margin, marginUncertainty(margin), DEFAULT_REVIEW_WEIGHTS);
    const order = orderQueue(scores, diverse ? { embeddings: emb, dim: DIM } : {});
    return { ms: performance.now() - t0, order };
  };
  build(true); // warm-up
  const runs = (diverse: boolean, k: number) => Array.from({ length: k }, () => build(diverse));
  const plain = runs(false, 5);
  const diverse = runs(true, 3);
  const ms = quantile(
    diverse.map((r) => r.ms),
    0.5,
  );
  const baselineMs = quantile(
    plain.map((r) => r.ms),
    0.5,
  );
  return {
    items: n,
    ms: round(ms),
    baselineMs: round(baselineMs),
    ratio: round(ms / baselineMs),
    worstNearDuplicatesPer50: worstNearDuplicatesPerWindow(diverse[0].order, emb, DIM),
    baselineWorstNearDuplicatesPer50: worstNearDuplicatesPerWindow(plain[0].order, emb, DIM),
  };
}

async function nextItem(images: number) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mome-bench-review-coco-'));
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mome-bench-review-home-'));
  const captions = Math.round((images * 616_767) / 123_287); // the real file's captions per image
  const shape = writeKarpathyScale(root, images, captions);
  const b = createBackend({ home, mode: 'browser' });
  try {
    const quiet = {
      signal: new AbortController().signal,
      progress: () => undefined,
      throwIfCancelled: () => undefined,
    };
    const t0 = performance.now();
    const { datasetId } = await importDataset(b.db, { root }, quiet);
    log(
      `imported ${shape.images} images, ${shape.captions} captions in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    // a stored run of the test split: every caption and image with a rank, a score and its top 10
    const random = rng(7);
    const ims = splitImages(b.db, datasetId, 'test');
    const caps = splitCaptions(b.db, datasetId, 'test');
    const top = () =>
      JSON.stringify(
        Array.from({ length: 10 }, (_, j) => [ims[Math.floor(random() * ims.length)].source_id, 1 - j / 20]),
      );
    const topCaps = () =>
      JSON.stringify(
        Array.from({ length: 10 }, (_, j) => [caps[Math.floor(random() * caps.length)].sentid, 1 - j / 20]),
      );
    const items: ItemRow[] = [
      ...caps.map((c): ItemRow => [
        'caption',
        String(c.sentid),
        1 + Math.floor(random() * 50),
        random(),
        random() - 0.5,
        top(),
      ]),
      ...ims.map((im): ItemRow => [
        'image',
        im.source_id,
        1 + Math.floor(random() * 50),
        random(),
        random() - 0.5,
        topCaps(),
      ]),
    ];
    const runId = saveEvalRun(b.db, {
      task: 'retrieval',
      modelName: 'bench',
      modelDir: root,
      fingerprint: 'bench',
      datasetId,
      split: 'test',
      options: {},
      metrics: {},
      provider: 'cpu',
      seconds: 0,
      items,
    });
    // the whole queue of the run's captions, as the app builds it: the cached embeddings read (written here as
    // the evaluation would have: 256-d, by caption text), the signals combined and the order spaced
    const cacheDir = path.join(b.home.cache, 'embeddings');
    const cache = EmbeddingCache.open(cacheDir, 'bench', 'texts', DIM);
    const { emb } = queueData(caps.length, 3);
    cache.put(caps.map((c, i) => [textKey(c.raw), emb.subarray(i * DIM, (i + 1) * DIM)]));
    const queue = () => {
      const t0 = performance.now();
      const keys = caps.map((c) => ({ kind: 'caption' as const, id: c.sentid }));
      return reviewEmbeddings(b.db, runId, cacheDir, keys).then((e) => {
        const t1 = performance.now();
        const margin = Float32Array.from(items.slice(0, caps.length), (it) => it[4]);
        const scores = combineScores(margin, marginUncertainty(margin), DEFAULT_REVIEW_WEIGHTS);
        orderQueue(scores, { embeddings: e!.embeddings, dim: e!.dim });
        return { embeddingsMs: t1 - t0, orderMs: performance.now() - t1, found: e!.found };
      });
    };
    await queue(); // warm-up
    const q = [await queue(), await queue(), await queue()];
    const fullQueue = {
      items: caps.length,
      embedded: q[0].found,
      embeddingsMs: round(
        quantile(
          q.map((x) => x.embeddingsMs),
          0.5,
        ),
      ),
      orderMs: round(
        quantile(
          q.map((x) => x.orderMs),
          0.5,
        ),
      ),
    };
    log(`queue of ${caps.length} captions: embeddings ${fullQueue.embeddingsMs} ms, order ${fullQueue.orderMs} ms`);

    const decisions: ReviewDecision[] = ['keep', 'ambiguous', 'fix', 'keep', 'skip'];
    const step = async (kind: 'caption' | 'image', i: number, list: string[]) => {
      const id = list[i];
      const decision = kind === 'image' && decisions[i % 5] === 'fix' ? 'ambiguous' : decisions[i % 5];
      const edits = decisionEdits({ datasetId, kind, id }, decision, { raw: `A corrected caption ${i}.` });
      const t = performance.now();
      if (edits.length) await b.call('editLabels', { edits, author: 'bench', view: 'review' });
      await b.call('getEvalItemDetail', { runId, kind, key: list[i + 1] });
      return performance.now() - t;
    };
    const measure = async (kind: 'caption' | 'image', list: string[], n: number) => {
      const ms: number[] = [];
      for (let i = 0; i < n; i++) ms.push(await step(kind, i, list));
      const timed = ms.slice(5); // the first few warm the statement cache
      return {
        decisions: timed.length,
        p50: round(quantile(timed, 0.5)),
        p95: round(quantile(timed, 0.95)),
        max: round(Math.max(...timed)),
      };
    };
    const captionKeys = caps.map((c) => String(c.sentid));
    const imageKeys = ims.map((im) => im.source_id);
    return {
      dataset: shape,
      runItems: items.length,
      fullQueue,
      caption: await measure('caption', captionKeys, 205),
      image: await measure('image', imageKeys, 105),
    };
  } finally {
    await b.close();
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(home, { recursive: true, force: true });
  }
}

export async function benchReview(args: string[]): Promise<Record<string, unknown>> {
  const at = args.indexOf('--images');
  const images = at >= 0 ? Number(args[at + 1]) : 123_287;
  if (!Number.isInteger(images) || images < 5000)
    throw new Error(`--images takes a whole number ≥ 5000, not ${args[at + 1]}`);
  const order = SIZES.map((n) => {
    const r = timeOrder(n);
    log(`order ${n}: ${r.ms} ms (score order alone ${r.baselineMs} ms)`);
    return r;
  });
  const next = await nextItem(images);
  log(`next item: caption p95 ${next.caption.p95} ms, image p95 ${next.image.p95} ms`);
  return {
    dim: DIM,
    order,
    nextItem: next,
    goals: { nextItemMs: 100 },
    nextItemGoalMet: Math.max(next.caption.p95, next.image.p95) <= 100,
  };
}
