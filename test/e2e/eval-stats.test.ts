// Intervals in the UI: the runs table shows each metric's 95% interval under its figure, comparing two runs
// shows each Δ with its paired interval and what it amounts to (NLVR2 with the McNemar p-value) and the groups
// of queries that changed most, and the failure slices list the worst groups of queries, each opening its missed queries.
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportRandomModels } from '../integration/helpers/models';
import { tempDir } from '../integration/helpers/temp';
import { jobInPage, launchChromium, repoRoot, screenshotDir, startServe, type Serve } from './harness';

let serve: Serve;
let browser: Browser;
let page: Page;
let models: string[];
const datasets: Record<string, number> = {};

/** Runs an API call in the page (window.mome) and waits for the job it starts. */
const job = (method: string, args: Record<string, unknown>) => jobInPage(page, method, args);

const shot = (name: string) => {
  fs.mkdirSync(screenshotDir, { recursive: true });
  return page.screenshot({ path: path.join(screenshotDir, name), fullPage: true });
};

const nav = (name: string) =>
  page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('button', { name: new RegExp(`^${name}`) })
    .click();

beforeAll(async () => {
  const out = tempDir('mome-e2e-stats-');
  models = exportRandomModels([1, 2].map((seed) => ({ out: path.join(out, `model${seed}`), seed })));
  serve = await startServe();
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(serve.url);
  for (const name of ['coco-sample', 'nlvr2-sample'])
    datasets[name] = (
      await job('startDatasetImport', { path: path.join(repoRoot, 'assets', 'datasets', name) })
    ).datasetId;
  for (const modelDir of models) {
    await job('startEvaluation', { task: 'retrieval', datasetId: datasets['coco-sample'], split: 'test', modelDir });
    await job('startEvaluation', { task: 'nlvr2', datasetId: datasets['nlvr2-sample'], split: 'dev', modelDir });
  }
});
afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

/** Each shown interval "lo–hi" holds the figure above it. */
async function checkIntervals(expected: number) {
  const rows = page.getByTestId('eval-runs').locator('tbody tr');
  await rows.nth(1).waitFor();
  const cis = page.getByTestId('eval-runs').getByTestId('metric-ci');
  await cis.first().waitFor();
  expect(await cis.count()).toBe(expected);
  const cells = await cis.evaluateAll((els) => els.map((e) => e.parentElement!.textContent!));
  for (const cell of cells) {
    const m = /^(\d+\.\d)%(\d+\.\d)–(\d+\.\d)$/.exec(cell.trim());
    expect(m, cell).not.toBeNull();
    const [value, lo, hi] = [m![1], m![2], m![3]].map(Number);
    expect(lo).toBeLessThanOrEqual(value);
    expect(hi).toBeGreaterThanOrEqual(value);
  }
}

describe('intervals in the evaluation view', () => {
  it('the retrieval runs table shows a 95% interval under every R@k', async () => {
    await nav('Retrieval');
    await checkIntervals(2 * 6);
    await shot('eval-stats-runs.png');
  });

  it('comparing two runs labels each difference with its interval', async () => {
    const rows = page.getByTestId('eval-runs').locator('tbody tr');
    await rows.first().click();
    await rows.last().getByRole('checkbox').check();
    const cmp = page.getByTestId('run-comparison');
    await cmp.getByTestId('difference-tr_r1').waitFor();
    const labels = await cmp.getByTestId('difference-label').allTextContents();
    expect(labels).toHaveLength(6);
    for (const l of labels) expect(l).toMatch(/^(better|worse|no detectable difference at 95%)$/);
    expect(await cmp.getByTestId('difference-ir_r5').textContent()).toMatch(/to/);
    await shot('eval-stats-compare.png');
  });

  it('the slices that changed most: groups fixed and broken, each with both runs, Δ and its interval', async () => {
    const changed = page.getByTestId('changed-slices');
    const rows = changed.getByTestId('changed-slice');
    await rows.first().waitFor();
    expect(await changed.textContent()).toMatch(/groups of at least 30/);
    for (const text of await rows.allTextContents())
      expect(text).toMatch(/\d+\.\d% → \d+\.\d%[+−±]\d+\.\d \([+−±]\d+\.\d to [+−±]\d+\.\d\)\+\d+ \/ −\d+$/);
    await rows.first().getByRole('button').first().click();
    await changed.locator('.slice-missed li').first().waitFor();
    await changed.scrollIntoViewIfNeeded();
    await shot('eval-stats-changed-slices.png');
  });

  it('failure slices: the worst groups with intervals; a group opens its missed queries, a query its detail', async () => {
    await page.getByRole('tab', { name: 'Failure slices' }).click();
    await page.getByLabel('Minimum support').fill('5');
    const slices = page.getByTestId('failure-slices').getByTestId('slice');
    await slices.first().waitFor();
    expect(await slices.first().textContent()).toMatch(/\d+\.\d%.*to/);
    expect(await slices.first().getByTestId('slice-holds').textContent()).toMatch(/^(worse|may be chance)$/);
    await slices.first().click();
    const item = page.getByTestId('slice-items').locator('button').first();
    await item.waitFor();
    await shot('eval-stats-slices.png');
    await item.click();
    await page.getByRole('tab', { name: 'Queries', selected: true }).waitFor();
    await page.locator('[data-testid="item-detail"][data-kind="caption"]').waitFor();
  });

  it('NLVR2: accuracy with its interval; the comparison gives the McNemar p-value', async () => {
    await nav('NLVR2');
    await checkIntervals(2);
    const rows = page.getByTestId('eval-runs').locator('tbody tr');
    await rows.first().click();
    await rows.last().getByRole('checkbox').check();
    const row = page.getByTestId('run-comparison').getByTestId('difference-accuracy');
    await row.waitFor();
    expect(await row.textContent()).toMatch(/McNemar p = [\d.e-]+/);
    await shot('eval-stats-nlvr2-compare.png');
  });
});
