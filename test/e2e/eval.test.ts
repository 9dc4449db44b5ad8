// Journey 3: evaluate and look at the errors. Two small random models on the shipped COCO-format sample:
// run from the UI, the worst query with its true image next to the top-k, the histograms, the embedding
// map, the likely label errors of every split, two runs compared with a flip opened in the inspection view;
// then NLVR2 with its confusion matrix and a wrong prediction's pair side by side.
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

/** Random tiny models (seeded), as model folders. */
function randomModels(seeds: number[]): string[] {
  const out = tempDir('mome-e2e-eval-');
  return exportRandomModels(seeds.map((seed) => ({ out: path.join(out, `model${seed}`), seed })));
}

/** Runs an API call in the page (window.mome) and waits for the job it starts. */
const job = (method: string, args: Record<string, unknown>) => jobInPage(page, method, args);

async function runFromUi(model: string) {
  await page.getByLabel('Model folder (empty: the active model)').fill(model);
  const before = await page
    .getByTestId('eval-runs')
    .locator('tbody tr')
    .count()
    .catch(() => 0);
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await page.waitForFunction(
    (n) => document.querySelectorAll('[data-testid="eval-runs"] tbody tr').length > n,
    before,
    { timeout: 120_000 },
  );
}

const shot = (name: string) => {
  fs.mkdirSync(screenshotDir, { recursive: true });
  return page.screenshot({ path: path.join(screenshotDir, name), fullPage: true });
};

beforeAll(async () => {
  models = randomModels([1, 2]);
  serve = await startServe();
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(serve.url);
  for (const name of ['coco-sample', 'nlvr2-sample'])
    await job('startDatasetImport', { path: path.join(repoRoot, 'assets', 'datasets', name) });
});
afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

const nav = (name: string) =>
  page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('button', { name: new RegExp(`^${name}`) })
    .click();

describe('retrieval evaluation in the UI', () => {
  it('runs, then shows the worst caption with its true image next to the top-k and the histograms', async () => {
    await nav('Retrieval');
    await page.getByText('No evaluation of this dataset yet').waitFor();
    await runFromUi(models[0]);
    const detail = page.getByTestId('item-detail');
    await detail.waitFor();
    // worst rank first: the open query is the first of the list, and its image is outlined beside the top 10
    const first = page.getByTestId('query-list').locator('li').first();
    expect(await first.getAttribute('class')).toContain('selected');
    await page.getByTestId('truth').locator('img').waitFor();
    expect(await page.getByTestId('topk').locator('figure').count()).toBe(10);
    await page.getByTestId('hist-caption-rank').waitFor();
    await page.getByTestId('hist-caption-margin').waitFor();
    await shot('eval-retrieval.png');
  });

  it('H marks the picked top-ranked image a hard negative, with the run as provenance and shown on it', async () => {
    const detail = page.getByTestId('item-detail');
    const caption = await detail.getAttribute('data-key');
    const figures = page.getByTestId('topk').locator('figure');
    // pick the first candidate that is not the caption's own image
    const truthAt = await figures.evaluateAll((fs) => fs.findIndex((f) => f.classList.contains('truth')));
    const pick = truthAt === 0 ? 1 : 0;
    for (let i = 0; i < pick; i++) await page.keyboard.press('j');
    await page.keyboard.press('h');
    await figures.nth(pick).locator('.badge.hard_negative').waitFor();
    const events = (await page.evaluate(() =>
      (window as any).mome.listLabelEvents({ kind: 'pair', limit: 10 }).then((p: any) => p.items),
    )) as { key: string; field: string; newValue: unknown; evalRunId: number | null; view: string }[];
    const mark = events.find((e) => e.key.startsWith(`${caption}|`));
    expect(mark).toMatchObject({ field: 'relation', newValue: 'hard_negative', view: 'retrieval' });
    expect(mark!.evalRunId).toBeGreaterThan(0);
  });

  it('filters by misses and text, and opens an image query with its captions', async () => {
    await page.getByLabel('Filter').selectOption('1');
    await page.getByLabel('Query kind').selectOption('image');
    await page.locator('[data-testid="item-detail"][data-kind="image"]').waitFor();
    expect(await page.getByTestId('truth').locator('ol.captions li').count()).toBeGreaterThan(0);
    await page.getByLabel('Query kind').selectOption('caption');
    await page.getByLabel('Filter').selectOption('0');
    await page.getByLabel('Search queries').fill('zzzz-no-such-text');
    await page.getByTestId('query-list').locator('li').first().waitFor({ state: 'detached' });
    await page.getByLabel('Search queries').fill('');
  });

  it('draws the embedding map and opens the item under a click', async () => {
    await page.getByRole('tab', { name: 'Embedding map' }).click();
    const canvas = page.locator('canvas.map-canvas');
    await canvas.waitFor({ timeout: 60_000 });
    await shot('eval-map.png');
    // click the drawn point nearest the centre: find one from the canvas pixels
    const hit = await canvas.evaluate((c: HTMLCanvasElement) => {
      const ctx = c.getContext('2d')!;
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      for (let i = 3; i < d.length; i += 4)
        if (d[i] > 150) return { x: ((i - 3) / 4) % c.width, y: Math.floor((i - 3) / 4 / c.width) };
      return null;
    });
    expect(hit).not.toBeNull();
    const box = (await canvas.boundingBox())!;
    const sx = box.x + (hit!.x + 1) * (box.width / 720);
    const sy = box.y + (hit!.y + 1) * (box.height / 480);
    await page.mouse.move(sx, sy);
    await page.mouse.down();
    await page.mouse.up();
    await page.getByRole('tab', { name: 'Queries', selected: true }).waitFor();
    await page.getByTestId('item-detail').waitFor();
  });

  it('ranks likely label errors across every split', async () => {
    await page.getByRole('tab', { name: 'Likely label errors' }).click();
    await page.getByRole('button', { name: /Rank likely label errors across all splits/ }).click();
    await page.getByTestId('likely-errors').locator('tbody tr').nth(20).waitFor({ timeout: 120_000 });
    expect(await page.getByTestId('likely-errors').textContent()).toMatch(/captions, most likely wrong first/);
    await shot('eval-likely-errors.png');
  });

  it('compares two models on the same split and opens a flipped item', async () => {
    await runFromUi(models[1]);
    const rows = page.getByTestId('eval-runs').locator('tbody tr');
    // the newest run (model 2, test) is selected; compare it with the first run (model 1, test)
    await rows.first().click();
    await rows.last().getByRole('checkbox').check();
    const cmp = page.getByTestId('run-comparison');
    await cmp.waitFor();
    // the metric rows only: the changed-slices table below loads on its own and has rows too
    expect(await cmp.locator('tr[data-testid^="difference-"]').count()).toBe(6);
    await shot('eval-compare.png');
    const flip = cmp.locator('[data-testid^="flips-"] li button').first();
    const text = await flip.textContent();
    await flip.click();
    await page.getByRole('tab', { name: 'Queries', selected: true }).waitFor();
    const key = /^(caption|image) (\S+)/.exec(text!.trim())!;
    await page.locator(`[data-testid="item-detail"][data-kind="${key[1]}"][data-key="${key[2]}"]`).waitFor();
  });
});

describe('NLVR2 evaluation in the UI', () => {
  it('shows accuracy, the confusion matrix and a wrong prediction with its pair', async () => {
    await nav('NLVR2');
    await runFromUi(models[0]);
    await page.getByTestId('confusion').waitFor();
    const detail = page.getByTestId('item-detail');
    await detail.waitFor();
    expect(await detail.locator('.pair img').count()).toBe(2);
    expect(await detail.textContent()).toMatch(/Label.*Prediction.*p\(True\)/);
    await shot('eval-nlvr2.png');
  });
});
