// Embedding clusters of a retrieval run's queries, a candidate family of the failure slices: k-means (cosine)
// over the cached caption embeddings (caption queries) or image embeddings (image queries) of the run's model,
// so a group of similar queries can be named a slice even where no single word names it. Each cluster is
// described by the words most over-represented in it. Computed once per run and kind, from the caches the
// evaluation wrote; queries whose embeddings are no longer cached belong to no cluster.
import type { EvalItemKind } from '../api/schemas';
import type { Db } from '../store/db';
import { datasetRoot } from '../datasets/repository';
import { rng, textKey } from '../../model-runtime/src/index';
import { cachedDim, embeddingKeys, openCaches, runCacheKeys } from './embed';
import { rankedQueries, type RankedQuery } from './items';
import { getEvalRun } from './repository';

/** Query key → its cluster's name ("3 · red, circle, grass"). */
export type Clusters = Map<string, string>;

const memo = new Map<string, Promise<Clusters | null>>();
const ITERATIONS = 10;
const STOP = new Set('a an the of and in on to with is are there this image shows at its it some'.split(' '));

/** The clusters of a run's caption or image queries; null for NLVR2 runs or without cached embeddings. */
export function embeddingClusters(
  db: Db,
  cacheDir: string,
  runId: number,
  kind: EvalItemKind,
): Promise<Clusters | null> {
  const key = `${cacheDir}|${runId}|${kind}`;
  let c = memo.get(key);
  if (!c) {
    c = compute(db, cacheDir, runId, kind);
    memo.set(key, c);
    c.catch(() => memo.delete(key));
    if (memo.size > 16) memo.delete(memo.keys().next().value!);
  }
  return c;
}

async function compute(db: Db, cacheDir: string, runId: number, kind: EvalItemKind): Promise<Clusters | null> {
  const run = getEvalRun(db, runId);
  if (run.task !== 'retrieval' || kind === 'nlvr2') return null;
  const keys = runCacheKeys(run);
  const dim = cachedDim(cacheDir, keys.texts);
  if (!dim) return null;
  const qs = rankedQueries(db, run.id, run.datasetId, kind);
  const caches = openCaches(cacheDir, keys, dim);
  const cacheKeys =
    kind === 'caption'
      ? qs.map((q) => textKey(q.text))
      : (
          await embeddingKeys(
            datasetRoot(db, run.datasetId),
            qs.map((q) => ({ id: 0, source_id: q.key, file: q.text, split: q.split ?? '' })),
            [],
          )
        ).imageKeys;
  const found: { q: RankedQuery; v: Float32Array }[] = [];
  qs.forEach((q, i) => {
    const v = (kind === 'caption' ? caches.texts : caches.images).get(cacheKeys[i]);
    if (v) found.push({ q, v });
  });
  if (found.length < Math.max(20, qs.length / 2)) return null;
  const k = Math.max(2, Math.min(24, Math.round(Math.sqrt(found.length / 20))));
  const assign = kmeans(
    found.map((f) => f.v),
    dim,
    k,
    run.id,
  );
  const names = describeClusters(
    found.map((f) => (kind === 'image' ? (f.q.captions ?? '') : f.q.text)),
    assign,
    k,
  );
  return new Map(found.map((f, i) => [f.q.key, names[assign[i]]]));
}

/** Spherical k-means with k-means++ seeding (seeded: the same run gives the same clusters). */
function kmeans(vs: Float32Array[], dim: number, k: number, seed: number): Int32Array {
  const n = vs.length;
  const random = rng(seed);
  const centres = Array.from({ length: k }, () => new Float32Array(dim));
  const dot = (a: Float32Array, b: Float32Array) => {
    let s = 0;
    for (let j = 0; j < dim; j++) s += a[j] * b[j];
    return s;
  };
  centres[0].set(vs[Math.floor(random() * n)]);
  const far = new Float64Array(n).fill(Infinity);
  for (let c = 1; c < k; c++) {
    let total = 0;
    for (let i = 0; i < n; i++) {
      far[i] = Math.min(far[i], Math.max(0, 1 - dot(vs[i], centres[c - 1])));
      total += far[i];
    }
    let r = random() * total;
    let pick = n - 1;
    for (let i = 0; i < n; i++)
      if ((r -= far[i]) <= 0) {
        pick = i;
        break;
      }
    centres[c].set(vs[pick]);
  }
  const assign = new Int32Array(n);
  for (let it = 0; it < ITERATIONS; it++) {
    for (let i = 0; i < n; i++) {
      let best = 0;
      let bestSim = -Infinity;
      for (let c = 0; c < k; c++) {
        const s = dot(vs[i], centres[c]);
        if (s > bestSim) [best, bestSim] = [c, s];
      }
      assign[i] = best;
    }
    for (const c of centres) c.fill(0);
    for (let i = 0; i < n; i++) {
      const c = centres[assign[i]];
      for (let j = 0; j < dim; j++) c[j] += vs[i][j];
    }
    for (const c of centres) {
      const norm = Math.sqrt(dot(c, c)) || 1;
      for (let j = 0; j < dim; j++) c[j] /= norm;
    }
  }
  return assign;
}

/** Each cluster named by its number and the three words most over-represented in its queries' text. */
function describeClusters(texts: string[], assign: Int32Array, k: number): string[] {
  const words = (t: string) => new Set(t.toLowerCase().match(/[a-z]+/g) ?? []);
  const all = new Map<string, number>();
  const per = Array.from({ length: k }, () => new Map<string, number>());
  const sizes = new Int32Array(k);
  texts.forEach((t, i) => {
    sizes[assign[i]]++;
    for (const w of words(t)) {
      if (STOP.has(w)) continue;
      all.set(w, (all.get(w) ?? 0) + 1);
      per[assign[i]].set(w, (per[assign[i]].get(w) ?? 0) + 1);
    }
  });
  return per.map((m, c) => {
    const top = [...m]
      .filter(([, n]) => n >= Math.max(3, 0.2 * sizes[c]))
      .map(([w, n]) => [w, n / sizes[c] / (all.get(w)! / texts.length)] as const)
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, 3)
      .map(([w]) => w);
    return `${c + 1}${top.length ? ` · ${top.join(', ')}` : ''}`;
  });
}
