// A retrieval run's figures with the user's "also a match" marks (label kind 'pair', field 'relation', value
// 'also_match', key "<sentid>|<imgid>") counted as correct, beside the original ones, plus mAP@R over all
// positives (ECCV Caption: for a query with R positives, (1/R) Σ_{i=1..R} P(i)·rel(i) over its top R).
//
// Recomputed on read from what the run stored, without re-encoding: each query's ground-truth rank (exact, even
// beyond the list) and its top-k list (k = the list the run kept: its k, or the re-rank depth when larger).
// An extra positive counts only where it appears in that list: one ranked below it cannot be found without
// re-scoring, so R@K with extra positives is exact for K ≤ k and mAP@R is exact for queries with R ≤ k and a
// lower bound otherwise (the positives outside the list count as not retrieved); both are reported.
// Own captions of an image (TR mAP@R) are the run's split captions as the labels have them now, as the item
// panel shows them.
import { ApiError } from '../api/contract';
import type { EvalMarkedMetrics, EvalRun } from '../api/schemas';
import type { Db } from '../store/db';
import { perDb } from '../store/per-db';
import { datasetRefreshedAt } from '../datasets/repository';
import { judgedPairs } from '../labels/history';
import { readCorrections } from './corrections';
import { captionQueryImages, itemsOfKind } from './items';
import { getEvalRun } from './repository';

const KS = [1, 5, 10] as const;

/** AP@R from the 0-based positions of the positives known (sorted ascending) and the number of positives R. */
export function apAtR(positions: number[], R: number): number {
  if (R <= 0) return 0;
  let hits = 0;
  let sum = 0;
  for (const p of positions) {
    if (p >= R) break;
    hits++;
    sum += hits / (p + 1);
  }
  return sum / R;
}

const ids = (top: string | null): string[] =>
  top ? (JSON.parse(top) as [string | number | null, number][]).map(([id]) => (id === null ? '' : String(id))) : [];

/** What a run stored (never changes) and its captions' images as imported: read once per run, then cached. */
interface Stored {
  captions: { key: string; rank: number | null; top: string | null }[];
  images: { key: string; rank: number | null; list: string[] }[];
  inRunCaption: Set<string>;
  inRunImage: Set<string>;
  imported: Map<string, string>;
}

const cache = new WeakMap<Db, Map<string, Stored>>();

function stored(db: Db, run: EvalRun): Stored {
  const refreshed = datasetRefreshedAt(db, run.datasetId);
  const key = `${run.id}:${run.createdAt}:${String(refreshed)}`;
  const memo = perDb(cache, db);
  const hit = memo.get(key);
  if (hit) return hit;
  const rows = (kind: 'caption' | 'image') => itemsOfKind(db, run.id, kind);
  const captions = rows('caption').map((r) => ({ key: r.item_key, rank: r.rank, top: r.top }));
  const images = rows('image').map((r) => ({ key: r.item_key, rank: r.rank, list: ids(r.top) }));
  const imported = captionQueryImages(db, run.id, run.datasetId);
  const out: Stored = {
    captions,
    images,
    inRunCaption: new Set(captions.map((r) => r.key)),
    inRunImage: new Set(images.map((r) => r.key)),
    imported,
  };
  if (memo.size > 8) memo.clear();
  memo.set(key, out);
  return out;
}

export function evalMetricsWithMarks(db: Db, runId: number): EvalMarkedMetrics {
  const started = performance.now();
  const run = getEvalRun(db, runId);
  if (run.task !== 'retrieval')
    throw new ApiError('invalid_arguments', `Run ${runId} is an NLVR2 run: extra positives apply to retrieval runs.`);
  const { captions, images, inRunCaption, inRunImage, imported } = stored(db, run);

  // the "also a match" marks as the history has them now (net of undo), of this run's captions and images
  const byCaption = new Map<string, Set<string>>();
  const byImage = new Map<string, Set<string>>();
  let pairs = 0;
  for (const p of judgedPairs(db, run.datasetId)) {
    const s = String(p.sentid);
    const i = String(p.imgid);
    if (p.relation !== 'also_match' || !inRunCaption.has(s) || !inRunImage.has(i)) continue;
    pairs++;
    if (!byCaption.has(s)) byCaption.set(s, new Set());
    byCaption.get(s)!.add(i);
    if (!byImage.has(i)) byImage.set(i, new Set());
    byImage.get(i)!.add(s);
  }

  // each run caption's own image as the labels have it now (a caption may have been moved)
  const fix = readCorrections(db, run.datasetId);
  const ownerOf = new Map(imported);
  for (const [target, fields] of fix) {
    const sentid = target.slice('caption:'.length);
    if (target.startsWith('caption:') && fields.has('image') && ownerOf.has(sentid))
      ownerOf.set(sentid, String(fields.get('image')));
  }
  const ownCount = new Map<string, number>();
  for (const owner of ownerOf.values()) ownCount.set(owner, (ownCount.get(owner) ?? 0) + 1);

  let storedK = Infinity;
  const tally = () => ({ hits: KS.map(() => 0), hitsX: KS.map(() => 0), ap: 0, apX: 0, n: 0, lower: 0 });
  const ir = tally();
  const tr = tally();
  let inIrTopK = 0;
  let inTrTopK = 0;

  // IR: caption queries. Positives: its image (at the stored rank) and its extra images found in the list.
  for (const r of captions) {
    if (r.rank === null) continue;
    ir.n++;
    const extras = byCaption.get(r.key);
    KS.forEach((k, j) => r.rank! < k && ir.hits[j]++);
    const apOrig = r.rank === 0 ? 1 : 0;
    ir.ap += apOrig;
    if (!extras) {
      KS.forEach((k, j) => r.rank! < k && ir.hitsX[j]++);
      ir.apX += apOrig;
      continue;
    }
    const list = ids(r.top);
    storedK = Math.min(storedK, list.length);
    const truth = r.rank < list.length ? list[r.rank] : ownerOf.get(r.key);
    const positions = [r.rank];
    let R = 1;
    for (const img of extras) {
      if (img === truth) continue;
      R++;
      const at = list.indexOf(img);
      if (at >= 0) {
        positions.push(at);
        inIrTopK++;
      }
    }
    positions.sort((a, b) => a - b);
    KS.forEach((k, j) => positions[0] < k && ir.hitsX[j]++);
    ir.apX += apAtR(positions, R);
    if (R > list.length) ir.lower++;
  }

  // TR: image queries. Positives: its captions (the best at the stored rank, the others where listed) and its
  // extra captions found in the list.
  for (const r of images) {
    if (r.rank === null) continue;
    tr.n++;
    const list = r.list;
    storedK = Math.min(storedK, list.length);
    const own = ownCount.get(r.key) ?? 0;
    const ownAt: number[] = [];
    list.forEach((s, at) => ownerOf.get(s) === r.key && ownAt.push(at));
    if (r.rank >= list.length && own > 0) ownAt.push(r.rank);
    else if (r.rank < list.length && !ownAt.includes(r.rank)) ownAt.push(r.rank); // its own at run time
    ownAt.sort((a, b) => a - b);
    const R0 = Math.max(own, ownAt.length);
    KS.forEach((k, j) => r.rank! < k && tr.hits[j]++);
    tr.ap += apAtR(ownAt, R0);
    const extras = byImage.get(r.key);
    if (!extras) {
      KS.forEach((k, j) => r.rank! < k && tr.hitsX[j]++);
      tr.apX += apAtR(ownAt, R0);
      if (R0 > list.length) tr.lower++;
      continue;
    }
    const positions = [...ownAt];
    let R = R0;
    for (const s of extras) {
      if (ownerOf.get(s) === r.key) continue;
      R++;
      const at = list.indexOf(s);
      if (at >= 0) {
        positions.push(at);
        inTrTopK++;
      }
    }
    positions.sort((a, b) => a - b);
    KS.forEach((k, j) => Math.min(r.rank!, positions[0] ?? Infinity) < k && tr.hitsX[j]++);
    tr.apX += apAtR(positions, R);
    if (R > list.length) tr.lower++;
  }

  const pct = (v: number, n: number) => (n ? Math.round((1e6 * v) / n) / 1e4 : 0);
  const figures = (x: boolean): EvalMarkedMetrics['original'] =>
    ({
      ...Object.fromEntries(KS.map((k, j) => [`tr_r${k}`, pct(x ? tr.hitsX[j] : tr.hits[j], tr.n)])),
      ...Object.fromEntries(KS.map((k, j) => [`ir_r${k}`, pct(x ? ir.hitsX[j] : ir.hits[j], ir.n)])),
      tr_map_r: pct(x ? tr.apX : tr.ap, tr.n),
      ir_map_r: pct(x ? ir.apX : ir.ap, ir.n),
    }) as EvalMarkedMetrics['original'];
  const k = Number.isFinite(storedK) ? storedK : Number(run.options.k ?? 10);
  return {
    runId,
    k,
    queries: { captions: ir.n, images: tr.n },
    extraPositives: {
      pairs,
      inCaptionTopK: inIrTopK,
      outsideCaptionTopK: pairs - inIrTopK,
      inImageTopK: inTrTopK,
      outsideImageTopK: pairs - inTrTopK,
    },
    original: figures(false),
    withExtras: figures(true),
    lowerBound: {
      recallAbove: k < 10 ? k : null,
      trMapQueries: tr.lower,
      irMapQueries: ir.lower,
    },
    ms: Math.round(performance.now() - started),
  };
}
