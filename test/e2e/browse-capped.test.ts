// A caption search in Browse over a dataset with more matching images than the search counts (10,050 images, all
// matching): the total says "10,000+ matches", the grid holds the first 10,000 in file order down to its last
// row; a narrower search shows its exact count.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cocoImages, writeCoco } from '../integration/helpers/datasets';
import { launchChromium, screenshotDir, startServe, type Serve } from './harness';

let serve: Serve;
let browser: Browser;
let page: Page;
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mome-e2e-capped-'));

beforeAll(async () => {
  await writeCoco(root, cocoImages(10_050), { withImages: false });
  serve = await startServe();
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(serve.url);
  await page.evaluate(async (p) => {
    const mome = (window as any).mome;
    let j = await mome.startDatasetImport({ path: p });
    while (j.state === 'queued' || j.state === 'running') {
      await new Promise((r) => setTimeout(r, 200));
      j = await mome.getJob({ id: j.id });
    }
    if (j.state !== 'succeeded') throw new Error(j.error);
  }, root);
});
afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('browse a capped search', () => {
  it('says "10,000+ matches" and pages through the first 10,000 in file order', async () => {
    await page.reload();
    await page.getByTestId('dataset-table').getByRole('button', { name: 'Browse' }).click();
    await expect.poll(() => page.getByTestId('browse-total').textContent()).toBe('10,050 images');
    const search = page.getByLabel('Search captions');
    await search.fill('photo showing');
    await search.press('Enter');
    await expect.poll(() => page.getByTestId('browse-total').textContent()).toBe('10,000+ matches');
    await expect.poll(() => page.locator('.cell[data-index="0"] .caption').textContent()).toMatch(/^A photo number 0 /);
    fs.mkdirSync(screenshotDir, { recursive: true });
    await page.screenshot({ path: path.join(screenshotDir, 'browse-capped-search.png') });
    // the last row of the grid is the 10,000th match
    await page.getByTestId('grid').evaluate((el) => (el.scrollTop = el.scrollHeight));
    await expect
      .poll(() => page.locator('.cell[data-index="9999"] .caption').textContent(), { timeout: 10_000 })
      .toMatch(/^A photo number 9999 /);
    expect(await page.locator('.cell[data-index="10000"]').count()).toBe(0);
    await search.fill('number 10049');
    await search.press('Enter');
    await expect.poll(() => page.getByTestId('browse-total').textContent()).toBe('1 image');
    await expect.poll(() => page.locator('.cell[data-index="0"] .caption').textContent()).toMatch(/number 10049 /);
  });
});
