// A run, or two runs compared, as one self-contained HTML file to share: metrics with their 95% intervals,
// the comparison's paired differences and labels, the histograms (inline SVG), the worst failure slices, the
// worst queries (or wrong NLVR2 predictions) with small JPEG thumbnails as data: URIs, the model's card and the
// data snapshot. Everything is gathered through the same functions the API answers with, so the file's
// figures are the app's; render.ts writes them with the views' precision. Images are read only through
// realPathInside (the dataset-folder rule); one that cannot be read gets a placeholder.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { MAX_INPUT_PIXELS } from '../../../model-runtime/src/index';
import { ApiError } from '../../api/contract';
import type { EvalItem, EvalItemDetail } from '../../api/schemas';
import { listDatasets } from '../../datasets/repository';
import { realPathInside, realRootOf } from '../../media/roots';
import { modelCard } from '../../models/card';
import type { ModelRegistry } from '../../models/registry';
import type { Db } from '../../store/db';
import { appVersion } from '../../backend/version';
import { compareEvalRuns } from '../compare';
import { getEvalItemDetail } from '../inspect';
import { getEvalItems, getEvalRun } from '../repository';
import { embeddingClusters, type Clusters } from '../clusters';
import { imageShapes } from '../image-shapes';
import { findChangedSlices, findFailureSlices } from '../slices';
import { withIntervals } from '../stats';
import { getEvalSummary } from '../summary';
import { renderReport, type ReportData, type ReportItem } from './render';

export const REPORT_LIMITS = {
  /** Worst queries (or wrong NLVR2 predictions) listed per kind. */
  items: 50,
  /** Thumbnails embedded in all: beyond it an image gets the placeholder (keeps a full COCO run small). */
  thumbnails: 300,
  /** Thumbnail edge in pixels. */
  thumbSize: 96,
  /** Failure slices per kind, and the missed queries named under each. */
  slices: 10,
  sliceMissed: 5,
  /** Fixed and broken items of a comparison listed (their totals are always given). */
  flips: 20,
};

export interface ReportDeps {
  db: Db;
  registry: ModelRegistry;
  /** The embeddings cache: with it, the slices include clusters of the run's embeddings, as in the app. */
  cacheDir?: string;
}

export interface ReportRequest {
  runId: number;
  compareRunId?: number;
  out: string;
}

export interface ReportResult {
  path: string;
  bytes: number;
  thumbnails: number;
}

/** Small JPEG thumbnails as data: URIs, one per real file, up to the cap. */
class Thumbnails {
  private readonly byFile = new Map<string, Promise<string | null>>();
  private realRoot: Promise<string>;
  constructor(
    private readonly root: string,
    private readonly cap: number,
    private readonly size: number,
  ) {
    this.realRoot = realRootOf(root);
  }
  /** Thumbnails made (placeholders not counted). */
  made = 0;
  /** The data: URI of a dataset file's thumbnail, or null (outside the folder, unreadable, over the cap). */
  of(file: string | null): Promise<string | null> {
    if (!file) return Promise.resolve(null);
    const hit = this.byFile.get(file);
    if (hit) return hit;
    if (this.byFile.size >= this.cap) return Promise.resolve(null);
    const made = (async () => {
      try {
        const real = await realPathInside(this.root, file, await this.realRoot);
        const jpeg = await sharp(real, { limitInputPixels: MAX_INPUT_PIXELS })
          .resize(this.size, this.size, { fit: 'inside', withoutEnlargement: true })
          .flatten({ background: '#808080' })
          .jpeg({ quality: 70 })
          .toBuffer();
        this.made++;
        return `data:image/jpeg;base64,${jpeg.toString('base64')}`;
      } catch {
        return null;
      }
    })();
    this.byFile.set(file, made);
    return made;
  }
}

async function itemsOf(
  db: Db,
  runId: number,
  kind: EvalItem['kind'],
  thumbs: Thumbnails,
): Promise<{ total: number; items: ReportItem[] }> {
  // the misses (wrong predictions), the model's most confident mistakes first
  const page = getEvalItems(db, {
    runId,
    kind,
    order: 'mistakenness',
    minRank: 1,
    offset: 0,
    limit: REPORT_LIMITS.items,
  });
  const items: ReportItem[] = [];
  for (const it of page.items) {
    let d: EvalItemDetail | null = null;
    try {
      d = getEvalItemDetail(db, { runId, kind, key: it.key });
    } catch {
      d = null; // the dataset no longer has it: listed without pictures
    }
    const images: ReportItem['images'] = [];
    if (d?.nlvr2) {
      images.push({ label: 'left', src: await thumbs.of(d.nlvr2.leftPath) });
      images.push({ label: 'right', src: await thumbs.of(d.nlvr2.rightPath) });
    } else if (d) {
      const own = kind === 'caption' ? 'its image' : 'the image';
      images.push({ label: own, src: await thumbs.of(d.path) });
      const first = d.candidates[0];
      if (first && !first.isTruth)
        images.push({
          label: kind === 'caption' ? 'ranked first' : "first caption's image",
          src: await thumbs.of(first.path),
        });
    }
    items.push({
      item: { ...it, text: d?.text ?? it.text },
      firstCandidate: kind === 'image' && d?.candidates[0] && !d.candidates[0].isTruth ? d.candidates[0].text : null,
      nlvr2: d?.nlvr2
        ? { label: d.nlvr2.label, prediction: d.nlvr2.prediction, probability: d.nlvr2.probability }
        : null,
      images,
    });
  }
  return { total: page.total, items };
}

/** Everything the report shows, read through the API's own functions. */
export async function gatherReport(deps: ReportDeps, q: { runId: number; compareRunId?: number }): Promise<ReportData> {
  const { db, registry } = deps;
  const run = withIntervals(db, getEvalRun(db, q.runId));
  // as the view compares: the other run is a (the baseline), this one b, so Δ = this − other
  const comparison =
    q.compareRunId === undefined
      ? null
      : compareEvalRuns(db, { a: q.compareRunId, b: run.id, at: 1, limit: REPORT_LIMITS.flips });
  const other = comparison ? withIntervals(db, comparison.a) : null;
  const dataset = listDatasets(db).find((d) => d.id === run.datasetId) ?? null;
  if (!dataset) throw new ApiError('not_found', `Run ${run.id}'s dataset ${run.datasetId} is no longer imported.`);
  const kinds: EvalItem['kind'][] = run.task === 'nlvr2' ? ['nlvr2'] : ['caption', 'image'];
  const clusters = new Map<EvalItem['kind'], Clusters | null>();
  for (const kind of kinds)
    clusters.set(kind, deps.cacheDir ? await embeddingClusters(db, deps.cacheDir, run.id, kind) : null);
  const shapes = await imageShapes(db, run.id);
  const settings = (kind: EvalItem['kind']) => ({
    kind,
    at: run.task === 'nlvr2' ? 1 : 5,
    minSupport: 30,
    limit: REPORT_LIMITS.slices,
    clusters: clusters.get(kind),
    shapes,
  });
  const slices = kinds.map((kind) => findFailureSlices(db, { runId: run.id, ...settings(kind) }));
  // a comparison: the groups this run fixed and broke most against the other, by the same metric as the slices
  const changed = comparison
    ? kinds.map((kind) => findChangedSlices(db, { a: comparison.a.id, b: run.id, ...settings(kind) }))
    : [];
  const thumbs = new Thumbnails(dataset.root, REPORT_LIMITS.thumbnails, REPORT_LIMITS.thumbSize);
  const worst: ReportData['worst'] = [];
  for (const kind of kinds) worst.push({ kind, ...(await itemsOf(db, run.id, kind, thumbs)) });
  const cardOf = (dir: string) => {
    const m = registry.list(true).find((x) => x.dir === dir);
    return m ? modelCard(db, registry, m.id) : null;
  };
  return {
    generatedAt: new Date().toISOString(),
    appVersion: appVersion(),
    run,
    other,
    comparison,
    summary: getEvalSummary(db, run.id),
    slices,
    changed,
    worst,
    card: cardOf(run.modelDir),
    otherCard: other && other.modelDir !== run.modelDir ? cardOf(other.modelDir) : null,
    dataset,
    thumbnails: thumbs.made,
  };
}

/** Writes the report to `out` (an absolute path whose folder exists), replacing the file at once. */
export async function exportEvalReport(deps: ReportDeps, q: ReportRequest): Promise<ReportResult> {
  const out = path.resolve(q.out);
  const dir = path.dirname(out);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory())
    throw new ApiError('not_found', `The folder ${dir} does not exist: choose an existing folder for the report.`);
  if (fs.existsSync(out) && fs.statSync(out).isDirectory())
    throw new ApiError('invalid_arguments', `${out} is a folder: give the report a file name, e.g. report.html.`);
  const data = await gatherReport(deps, q);
  const html = renderReport(data);
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    await fs.promises.writeFile(tmp, html);
    await fs.promises.rename(tmp, out);
  } catch (e) {
    await fs.promises.rm(tmp, { force: true });
    throw new ApiError('forbidden', `Cannot write the report to ${out}: ${(e as Error).message}`);
  }
  return { path: out, bytes: Buffer.byteLength(html), thumbnails: data.thumbnails };
}
