// "Also a match" counts in the UI: a retrieval run from the Retrieval view shows each R@K with the marks counted
// ("with M") and mAP@R; pressing M on a top-ranked image that is not the caption's own moves the IR figures at
// once (no re-encoding), and Ctrl+Z moves them back.
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
let model: string;

/** Runs an API call in the page (window.mome) and waits for the job it starts. */
const job = (method: string, args: Record<string, unknown>) => jobInPage(page, method, args);

const shot = (name: string) => {
  fs.mkdirSync(screenshotDir, { recursive: true });
  return page.screenshot({ path: path.join(screenshotDir, name), fullPage: true });
};

beforeAll(async () => {
  model = exportRandomModels([{ out: path.join(tempDir('mome-e2e-xp-'), 'model'), seed: 1 }])[0];
  serve = await startServe();
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1500, height: 900 } });
  await page.goto(serve.url);
  await job('startDatasetImport', { path: path.join(repoRoot, 'assets', 'datasets', 'coco-sample') });
});
afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

const figure = (testid: string, metric: string) =>
  page.locator(`[data-testid="${testid}"][data-metric="${metric}"]`).first().textContent();

describe('"also a match" in the runs table', () => {
  it('M on a candidate moves the "with extra positives" figures; undo moves them back', async () => {
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('button', { name: /^Retrieval/ })
      .click();
    await page.getByText('No evaluation of this dataset yet').waitFor();
    await page.getByLabel('Model folder (empty: the active model)').fill(model);
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page.getByTestId('eval-runs').locator('tbody tr').first().waitFor({ timeout: 120_000 });
    await page.locator('[data-testid="map-r-with-extras"][data-metric="ir_map_r"]').first().waitFor();
    const map = (await figure('map-r-with-extras', 'ir_map_r'))!;
    // no mark yet: no "with M" line, mAP@R with marks equals the original
    expect(await page.getByTestId('metric-with-extras').count()).toBe(0);
    const firstRow = page.getByTestId('eval-runs').locator('tbody tr').first();
    const ir1 = (await firstRow.locator('td').nth(6).innerText()).split('\n')[0]; // IR@1 as the run stored it
    expect((await firstRow.locator('td').nth(10).innerText()).split('\n')[1]).toBe(`original ${map}`);

    // the worst caption is open: its first candidate is not its own image
    const detail = page.getByTestId('item-detail');
    await detail.waitFor();
    const figures = page.getByTestId('topk').locator('figure');
    await figures.first().waitFor();
    expect(await figures.first().getAttribute('class')).not.toContain('truth');
    await page.keyboard.press('m');
    await figures.first().locator('.badge.also_match').waitFor();
    await page.locator('[data-testid="metric-with-extras"][data-metric="ir_r1"]').first().waitFor();
    const ir1After = (await figure('metric-with-extras', 'ir_r1'))!;
    const num = (s: string) => Number(s.replace(/[^0-9.]/g, ''));
    expect(num(ir1After)).toBeGreaterThan(num(ir1));
    expect(num((await figure('map-r-with-extras', 'ir_map_r'))!)).toBeGreaterThan(num(map));
    await page.getByTestId('eval-runs').scrollIntoViewIfNeeded();
    await shot('eval-extra-positives.png');

    await page.keyboard.press('Control+z');
    await page.getByTestId('metric-with-extras').first().waitFor({ state: 'detached' });
    await page.waitForFunction(
      (before) =>
        document.querySelector('[data-testid="map-r-with-extras"][data-metric="ir_map_r"]')?.textContent === before,
      map,
    );
  });
});
