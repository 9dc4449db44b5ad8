// The shared report from the evaluation view: Export report… writes the file to the typed path and shows it;
// opened from file:// in Chromium with no server, its metric cells (and, for a comparison, its differences and
// labels) read exactly what the API returns; it loads nothing from anywhere (no request leaves the page).
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvalComparison, EvalRun } from '../../electron/api/schemas';
import { tempDir } from '../integration/helpers/temp';
import { jobInPage, launchChromium, repoRoot, screenshotDir, startServe, type Serve } from './harness';

let serve: Serve;
let browser: Browser;
let page: Page;
let datasetId: number;
const outDir = tempDir('mome-e2e-report-');
const tiny = path.join(repoRoot, 'assets', 'models', 'mome-tiny');

const job = (method: string, args: Record<string, unknown>) => jobInPage(page, method, args);
const call = <T>(method: string, args: Record<string, unknown>): Promise<T> =>
  page.evaluate(([m, a]) => (window as any).mome[m as string](a), [method, args] as const) as Promise<T>;

const pct = (v: number) => `${v.toFixed(1)}%`;
const ci = ([lo, hi]: [number, number]) => `${lo.toFixed(1)}–${hi.toFixed(1)}`;
const signed = (v: number) => `${v > 0 ? '+' : v < 0 ? '−' : '±'}${Math.abs(v).toFixed(1)}`;

beforeAll(async () => {
  serve = await startServe();
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(serve.url);
  datasetId = (await job('startDatasetImport', { path: path.join(repoRoot, 'assets', 'datasets', 'coco-sample') }))
    .datasetId;
  await job('startEvaluation', { task: 'retrieval', datasetId, split: 'test', modelDir: tiny });
  await job('startEvaluation', { task: 'retrieval', datasetId, split: 'test', modelDir: tiny, rerankK: 5 });
});
afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

/** Opens a report file from disk in a fresh page, counting every request that is not the file itself. */
async function openReport(file: string): Promise<{ report: Page; requests: string[] }> {
  const report = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const requests: string[] = [];
  report.on('request', (r) => {
    if (!r.url().startsWith('file://') && !r.url().startsWith('data:')) requests.push(r.url());
  });
  await report.goto(`file://${file}`);
  return { report, requests };
}

describe('Export report from the evaluation view', () => {
  it('writes a run, and shows where; the file read offline holds the API figures', async () => {
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('button', { name: /^Retrieval/ })
      .click();
    const rows = page.getByTestId('eval-runs').locator('tbody tr');
    await rows.nth(1).waitFor();
    const runs = (await call<EvalRun[]>('listEvalRuns', { datasetId })).filter((r) => r.task === 'retrieval');
    await rows.first().click(); // the newest: the re-ranked run
    const panel = page.getByTestId('report-export');
    await panel.getByRole('button', { name: 'Export report…' }).click();
    const file = path.join(outDir, 'run.html');
    await panel.getByLabel('Report file').fill(file);
    await panel.getByRole('button', { name: /^Write run/ }).click();
    const written = panel.getByTestId('report-written');
    await written.waitFor();
    expect(await written.textContent()).toContain(file);
    expect(fs.existsSync(file)).toBe(true);

    const { report, requests } = await openReport(file);
    const run = runs[0];
    for (const name of ['tr_r1', 'tr_r5', 'tr_r10', 'ir_r1', 'ir_r5', 'ir_r10']) {
      const cell = report.locator(`td[data-run="${run.id}"][data-metric="${name}"]`);
      expect(await cell.locator('.value').textContent(), name).toBe(pct(run.metrics[name]));
      expect(await cell.locator('.ci').textContent(), name).toBe(ci(run.ci95![name]));
    }
    // thumbnails decoded from data: URIs
    const decoded = await report
      .locator('img')
      .evaluateAll((imgs) => (imgs as HTMLImageElement[]).filter((i) => i.complete && i.naturalWidth > 0).length);
    // every embedded thumbnail decodes (how many depends on how many sample queries the model misses)
    expect(decoded).toBeGreaterThan(1);
    expect(decoded).toBe(await report.locator('img').count());
    expect(requests).toEqual([]);
    await report.close();
  });

  it('a comparison: the differences and labels of compareEvalRuns', async () => {
    const rows = page.getByTestId('eval-runs').locator('tbody tr');
    await rows.last().getByRole('checkbox').check(); // compare the selected (newest) run with the first run
    await page.getByTestId('run-comparison').getByTestId('difference-tr_r1').waitFor();
    const runs = (await call<EvalRun[]>('listEvalRuns', { datasetId })).filter((r) => r.task === 'retrieval');
    const [b, a] = [runs[0], runs[runs.length - 1]];
    const panel = page.getByTestId('report-export');
    const file = path.join(outDir, 'compare.html');
    await panel.getByLabel('Report file').fill(file);
    await panel.getByRole('button', { name: `Write run ${b.id} vs ${a.id}` }).click();
    await expect.poll(async () => (await panel.getByTestId('report-written').textContent()) ?? '').toContain(file);

    const cmp = await call<EvalComparison>('compareEvalRuns', { a: a.id, b: b.id });
    const { report, requests } = await openReport(file);
    for (const d of cmp.differences!) {
      const row = report.locator(`tr[data-difference="${d.name}"]`);
      expect(await row.locator('[data-col="delta"]').textContent(), d.name).toBe(signed(d.delta));
      expect(await row.locator('[data-col="label"]').textContent(), d.name).toBe(d.label);
    }
    for (const r of [a, b])
      expect(await report.locator(`td[data-run="${r.id}"][data-metric="ir_r1"] .value`).textContent()).toBe(
        pct(r.metrics.ir_r1),
      );
    expect(requests).toEqual([]);
    fs.mkdirSync(screenshotDir, { recursive: true });
    await report.screenshot({ path: path.join(screenshotDir, 'report.png'), fullPage: true });
    await page.screenshot({ path: path.join(screenshotDir, 'report-export.png') });
    await report.close();
  });
});
