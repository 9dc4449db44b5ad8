// The shared report (issue 17 item 4) on real runs of the shipped tiny model over the samples, real SQLite:
// one self-contained HTML file whose figures are exactly the API's (listEvalRuns metrics and intervals,
// compareEvalRuns' deltas, intervals and labels, NLVR2's McNemar), with no script and no external URL, every
// text from the data escaped, thumbnails embedded as data: URIs (a placeholder for an unreadable image), and
// a size bounded by the caps; the `mome report` command writes the same file.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangedSlices, EvalComparison, EvalItem, EvalReport, EvalRun } from '../../electron/api/schemas';
import { createBackend } from '../../electron/backend/index';
import { importDataset } from '../../electron/datasets/importer';
import { CSP } from '../../electron/eval/report/render';
import { ModelRegistry } from '../../electron/models/registry';
import { REPORT_LIMITS } from '../../electron/eval/report/index';
import { runEvaluation } from '../../electron/eval/run-eval';
import { tempDir } from './helpers/temp';

const repo = path.resolve(__dirname, '..', '..');
const tiny = path.join(repo, 'assets', 'models', 'mome-tiny');
const quiet = { signal: new AbortController().signal, progress: () => undefined, throwIfCancelled: () => undefined };
const home = tempDir('mome-report-');
const backend = createBackend({ home, mode: 'browser' });
const cacheDir = path.join(backend.home.cache, 'embeddings');
const outDir = tempDir('mome-report-out-');
afterAll(() => backend.close());

// a copy of the COCO sample: one of its images is made unreadable after the runs
const cocoRoot = path.join(tempDir('mome-report-data-'), 'coco');
let coco: number;
let nlvr2: number;
const runs: Record<string, number> = {};
beforeAll(async () => {
  // the shipped model registered in place, as the app does on first start: its card goes into the report
  new ModelRegistry(backend.db, backend.home.models).registerShipped(tiny);
  fs.cpSync(path.join(repo, 'assets', 'datasets', 'coco-sample'), cocoRoot, { recursive: true });
  coco = (await importDataset(backend.db, { root: cocoRoot }, quiet)).datasetId;
  nlvr2 = (await importDataset(backend.db, { root: path.join(repo, 'assets', 'datasets', 'nlvr2-sample') }, quiet))
    .datasetId;
  const evaluate = (task: 'retrieval' | 'nlvr2', datasetId: number, split: string, rerankK = 0) =>
    runEvaluation(
      backend.db,
      { task, modelDir: tiny, datasetId, split, k: 10, rerankK, device: 'cpu', cacheDir },
      quiet,
    );
  runs.plain = (await evaluate('retrieval', coco, 'test')).runId;
  runs.rerank = (await evaluate('retrieval', coco, 'test', 5)).runId;
  runs.nlvr2 = (await evaluate('nlvr2', nlvr2, 'dev')).runId;
  runs.nlvr2b = (await evaluate('nlvr2', nlvr2, 'dev')).runId;
}, 180_000);

const api = async <T>(method: string, args: unknown) => (await backend.call(method, args)) as T;
const pct = (v: number) => `${v.toFixed(1)}%`;
const ci = ([lo, hi]: [number, number]) => `${lo.toFixed(1)}–${hi.toFixed(1)}`;
const signed = (v: number) => `${v > 0 ? '+' : v < 0 ? '−' : '±'}${Math.abs(v).toFixed(1)}`;
const interval = ([lo, hi]: [number, number]) => `${signed(lo).replace('±', '')} to ${signed(hi).replace('±', '')}`;

/** The metric cells of the report: run → metric → [value, interval]. */
function metricCells(html: string): Map<string, [string, string | null]> {
  const out = new Map<string, [string, string | null]>();
  const re =
    /<td class="num" data-run="(\d+)" data-metric="([a-z0-9_]+)"><span class="value">([^<]*)<\/span>(?:<span class="ci" data-ci="[a-z0-9_]+">([^<]*)<\/span>)?<\/td>/g;
  for (const m of html.matchAll(re)) out.set(`${m[1]}:${m[2]}`, [m[3], m[4] ?? null]);
  return out;
}

/** The comparison rows: metric → {a, b, delta, interval, label}. */
function differenceRows(html: string): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const row of html.matchAll(/<tr data-difference="([a-z0-9_]+)">(.*?)<\/tr>/g)) {
    const cols: Record<string, string> = {};
    for (const c of row[2].matchAll(/data-col="([a-z]+)">([^<]*)</g)) cols[c[1]] = c[2];
    out.set(row[1], cols);
  }
  return out;
}

function checkSelfContained(html: string) {
  expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="${CSP}">`);
  expect(html).not.toMatch(/<script/i);
  expect(html).not.toMatch(/\bon[a-z]+\s*=/i); // no inline handlers either
  // the only URL is the SVG namespace (an identifier, never fetched)
  const urls = [...html.matchAll(/https?:\/\/[^\s"'<>)]+/g)].map((m) => m[0]);
  expect(new Set(urls)).toEqual(new Set(urls.length ? ['http://www.w3.org/2000/svg'] : []));
  expect(html).not.toMatch(/(src|href)="(?!data:)/);
  expect(html).not.toMatch(/url\(/);
}

async function exportReport(args: { runId: number; compareRunId?: number }, name: string) {
  const out = path.join(outDir, name);
  const r = await api<EvalReport>('exportEvalReport', { ...args, out });
  expect(r.path).toBe(out);
  const html = fs.readFileSync(out, 'utf8');
  expect(r.bytes).toBe(fs.statSync(out).size);
  return { r, html };
}

describe('a retrieval run as a report', () => {
  let worst: EvalItem;
  it("holds the API's metrics and intervals, escaped captions, thumbnails and a placeholder", async () => {
    // a caption with markup in it, as a correction: the report shows it as text
    worst = (
      await api<{ items: EvalItem[] }>('getEvalItems', { runId: runs.plain, kind: 'caption', minRank: 1, limit: 1 })
    ).items[0];
    await api('editLabels', {
      edits: [{ datasetId: coco, kind: 'caption', key: worst.key, field: 'raw', value: 'A <b>& "bold" square' }],
    });
    // and its image unreadable now (a corrupt file): a placeholder instead of a thumbnail
    const detail = await api<{ path: string }>('getEvalItemDetail', {
      runId: runs.plain,
      kind: 'caption',
      key: worst.key,
    });
    fs.writeFileSync(detail.path, 'not an image');

    const { r, html } = await exportReport({ runId: runs.plain }, 'run.html');
    checkSelfContained(html);
    const run = (await api<EvalRun[]>('listEvalRuns', { datasetId: coco })).find((x) => x.id === runs.plain)!;
    const cells = metricCells(html);
    expect(cells.size).toBe(6);
    for (const name of ['tr_r1', 'tr_r5', 'tr_r10', 'ir_r1', 'ir_r5', 'ir_r10']) {
      expect(cells.get(`${run.id}:${name}`), name).toEqual([pct(run.metrics[name]), ci(run.ci95![name])]);
    }
    expect(html).toContain('A &lt;b&gt;&amp; &quot;bold&quot; square');
    expect(html).not.toContain('<b>&');
    // the corrupted image's query shows the placeholder; the others real JPEG thumbnails
    const li = new RegExp(`<li data-item="caption:${worst.key}">(.*?)</li>`).exec(html)![1];
    expect(li).toContain('<span class="ph">no image</span>');
    const thumbs = [...html.matchAll(/<img src="data:image\/jpeg;base64,([A-Za-z0-9+/=]+)"/g)];
    // every real image the listed queries show is embedded (one per file; a file shown twice reuses it)
    expect(r.thumbnails).toBeGreaterThan(1);
    expect(thumbs.length).toBeGreaterThanOrEqual(r.thumbnails);
    for (const t of thumbs.slice(0, 5))
      expect(Buffer.from(t[1], 'base64').subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(r.thumbnails).toBeLessThanOrEqual(REPORT_LIMITS.thumbnails);
    // histograms as inline SVG, with the summary's counts
    const summary = await api<{ histograms: { kind: string; what: string; bins: { count: number }[] }[] }>(
      'getEvalSummary',
      { runId: run.id },
    );
    const fig = /<figure data-histogram="caption-rank">(.*?)<\/figure>/.exec(html)![1];
    const counts = [...fig.matchAll(/data-count="(\d+)"/g)].map((m) => Number(m[1]));
    expect(counts).toEqual(
      summary.histograms.find((h) => h.kind === 'caption' && h.what === 'rank')!.bins.map((b) => b.count),
    );
    // failure slices as the API finds them (a table of them, or the sentence saying none does worse), model card
    // and data snapshot
    for (const kind of ['caption', 'image']) {
      const found = await api<{ slices: { feature: string; value: string }[] }>('findFailureSlices', {
        runId: run.id,
        kind,
        at: 5,
        minSupport: 30,
        limit: REPORT_LIMITS.slices,
      });
      if (found.slices.length === 0) expect(html).toContain(`No group of at least 30 queries does worse`);
      else {
        const table = new RegExp(`<table data-table="slices-${kind}">(.*?)</table>`).exec(html)![1];
        expect([...table.matchAll(/data-slice="([^"]*)"/g)].map((m) => m[1])).toEqual(
          found.slices.map((sl) => `${sl.feature}:${sl.value}`),
        );
      }
    }
    expect(html).toMatch(/<h3 data-card="\d+">mome-tiny /);
    expect(html).toContain(`<dd>${cocoRoot}</dd>`);
    expect(html).toContain('<tr data-split="test"><td>test <strong>(evaluated)</strong></td><td class="num">20</td>');
    // far below the bound a full COCO 5K test run must stay under (the lists and thumbnails are capped)
    expect(r.bytes).toBeLessThan(25 * 1024 * 1024);
  });

  it("a comparison holds compareEvalRuns' deltas, intervals and labels", async () => {
    const { html } = await exportReport({ runId: runs.rerank, compareRunId: runs.plain }, 'compare.html');
    checkSelfContained(html);
    const cmp = await api<EvalComparison>('compareEvalRuns', { a: runs.plain, b: runs.rerank });
    const rows = differenceRows(html);
    expect(cmp.differences!.length).toBe(6);
    for (const d of cmp.differences!) {
      const m = cmp.metrics.find((x) => x.name === d.name)!;
      expect(rows.get(d.name), d.name).toEqual({
        a: pct(m.a!),
        b: pct(m.b!),
        delta: signed(d.delta),
        interval: interval(d.ci95),
        label: d.label,
      });
    }
    // both runs' metrics with their intervals
    const all = await api<EvalRun[]>('listEvalRuns', { datasetId: coco });
    const cells = metricCells(html);
    for (const id of [runs.plain, runs.rerank]) {
      const run = all.find((x) => x.id === id)!;
      expect(cells.get(`${id}:ir_r1`)).toEqual([pct(run.metrics.ir_r1), ci(run.ci95!.ir_r1)]);
    }
    expect(html).toContain(`<h3>Fixed <span class="muted">${cmp.totals.fixed}</span></h3>`);
    expect(html).toContain(`<h3>Broken <span class="muted">${cmp.totals.broken}</span></h3>`);
    // the groups that changed most, as findChangedSlices gives them, in its order
    expect(html).toContain('<h2>Slices that changed most</h2>');
    for (const kind of ['caption', 'image'] as const) {
      const c = await api<ChangedSlices>('findChangedSlices', {
        a: runs.plain,
        b: runs.rerank,
        kind,
        at: 5,
        minSupport: 30,
        limit: REPORT_LIMITS.slices,
      });
      for (const [which, list] of [
        ['fixed', c.fixed],
        ['broken', c.broke],
      ] as const) {
        const table = new RegExp(`<table data-table="changed-${which}-${kind}">(.*?)</table>`).exec(html);
        if (list.length === 0) {
          expect(table, `${which} ${kind}`).toBeNull();
          continue;
        }
        const shown = [...table![1].matchAll(/<tr data-slice="([^"]*)">/g)].map((m) => m[1]);
        expect(shown).toEqual(list.map((x) => `${x.feature}:${x.value}`));
      }
    }
  });
});

describe('an NLVR2 run', () => {
  it('confusion matrix, wrong predictions with both images, McNemar in the comparison', async () => {
    const { html } = await exportReport({ runId: runs.nlvr2b, compareRunId: runs.nlvr2 }, 'nlvr2.html');
    checkSelfContained(html);
    const all = await api<EvalRun[]>('listEvalRuns', { datasetId: nlvr2 });
    const run = all.find((x) => x.id === runs.nlvr2b)!;
    expect(metricCells(html).get(`${run.id}:accuracy`)).toEqual([pct(run.metrics.accuracy), ci(run.ci95!.accuracy)]);
    const cmp = await api<EvalComparison>('compareEvalRuns', { a: runs.nlvr2, b: runs.nlvr2b });
    const d = cmp.differences!.find((x) => x.name === 'accuracy')!;
    expect(d.mcnemar).toBeDefined();
    expect(differenceRows(html).get('accuracy')!.label).toBe(d.label);
    expect(html).toContain(`data-mcnemar="${d.mcnemar!.p}"`);
    const s = await api<{ confusion: Record<string, number> }>('getEvalSummary', { runId: run.id });
    for (const [k, n] of Object.entries(s.confusion))
      expect(html).toMatch(new RegExp(`data-confusion="${k}">${n.toLocaleString('en')} `));
    const wrong = /<ul class="items" data-worst="nlvr2">(.*?)<\/ul>/.exec(html)![1];
    const first = /<li data-item="nlvr2:[^"]+">(.*?)<\/li>/.exec(wrong)![1];
    expect([...first.matchAll(/<img src="data:image\/jpeg;base64,/g)]).toHaveLength(2);
  });
});

describe('refusals', () => {
  it('an unknown run, a missing folder, a relative path, runs of different splits', async () => {
    await expect(api('exportEvalReport', { runId: 9999, out: path.join(outDir, 'x.html') })).rejects.toMatchObject({
      code: 'not_found',
    });
    await expect(
      api('exportEvalReport', { runId: runs.plain, out: path.join(outDir, 'nope', 'x.html') }),
    ).rejects.toMatchObject({ code: 'not_found', message: expect.stringContaining('does not exist') });
    await expect(api('exportEvalReport', { runId: runs.plain, out: 'x.html' })).rejects.toMatchObject({
      code: 'invalid_arguments',
    });
    await expect(
      api('exportEvalReport', { runId: runs.plain, compareRunId: runs.nlvr2, out: path.join(outDir, 'y.html') }),
    ).rejects.toMatchObject({ code: 'invalid_arguments' });
    expect(fs.existsSync(path.join(outDir, 'y.html'))).toBe(false);
  });
});

describe('mome report', () => {
  it('writes the same report from the command line', async () => {
    const out = path.join(outDir, 'cli.html');
    const res = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'electron/cli/main.ts',
        'report',
        '--run',
        String(runs.rerank),
        '--compare',
        String(runs.plain),
        '--home',
        home,
        '--out',
        out,
      ],
      { cwd: repo, encoding: 'utf8', timeout: 120_000 },
    );
    expect(res.status, res.stderr).toBe(0);
    const printed = JSON.parse(res.stdout) as EvalReport;
    expect(printed.path).toBe(out);
    expect(printed.bytes).toBe(fs.statSync(out).size);
    const html = fs.readFileSync(out, 'utf8');
    checkSelfContained(html);
    const cmp = await api<EvalComparison>('compareEvalRuns', { a: runs.plain, b: runs.rerank });
    const rows = differenceRows(html);
    for (const d of cmp.differences!) expect(rows.get(d.name)!.label).toBe(d.label);
    const bad = spawnSync(process.execPath, ['--import', 'tsx', 'electron/cli/main.ts', 'report', '--home', home], {
      cwd: repo,
      encoding: 'utf8',
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('usage: mome report');
  });
});
