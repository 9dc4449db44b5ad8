// The whole map in the UI: a retrieval run of the shipped tiny model over every split of the COCO-format sample,
// its map computed as a job and drawn by WebGL (Chromium's SwiftShader here), a hover that previews the point
// under the pointer, and a lasso whose points open in the selection grid, from which an item opens.
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobInPage, launchChromium, repoRoot, screenshotDir, startServe, type Serve } from './harness';

let serve: Serve;
let browser: Browser;
let page: Page;
let runId: number;

const shot = (name: string) => {
  fs.mkdirSync(screenshotDir, { recursive: true });
  return page.screenshot({ path: path.join(screenshotDir, name), fullPage: true });
};

beforeAll(async () => {
  serve = await startServe();
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(serve.url);
  const imported = await jobInPage(page, 'startDatasetImport', {
    path: path.join(repoRoot, 'assets', 'datasets', 'coco-sample'),
  });
  const run = await jobInPage(page, 'startEvaluation', {
    task: 'retrieval',
    datasetId: imported.datasetId,
    split: '*',
    device: 'cpu',
  });
  runId = run.runId;
}, 300_000);
afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

/** Where the UI draws each point at the fitted view: positions centred and scaled as useWholeMap does. */
async function screenPositions(): Promise<{ xs: number[]; ys: number[]; n: number }> {
  const [w0, h0, left, top] = await page
    .locator('canvas.whole-map-canvas')
    .evaluate((c: HTMLCanvasElement) => [c.clientWidth, c.clientHeight, c.clientLeft, c.clientTop]);
  // positions relative to the canvas's border box, as the page's mouse coordinates are
  const shift = (p: { xs: number[]; ys: number[]; n: number }) => ({
    xs: p.xs.map((x) => x + left),
    ys: p.ys.map((y) => y + top),
    n: p.n,
  });
  return shift(
    await page.evaluate(
      async ([id, w, h]) => {
        const p = await (window as any).mome.getEmbeddingMapPoints({ runId: id });
        const f32 = (s: string) => new Float32Array(Uint8Array.from(atob(s), (c) => c.charCodeAt(0)).buffer);
        const x = f32(p.x);
        const y = f32(p.y);
        const [x0, x1, y0, y1] = [Math.min(...x), Math.max(...x), Math.min(...y), Math.max(...y)];
        const half = Math.max(x1 - x0, y1 - y0) / 2 / 0.96;
        const [sx, sy] = w > h ? [h / w, 1] : [1, w / h];
        const xs = Array.from(x, (v) => ((((v - (x0 + x1) / 2) / half) * sx + 1) / 2) * w);
        const ys = Array.from(y, (v) => ((1 - ((v - (y0 + y1) / 2) / half) * sy) / 2) * h);
        return { xs, ys, n: p.n as number };
      },
      [runId, w0, h0] as const,
    ),
  );
}

describe('the whole map of a run', () => {
  it('computes the map as a job and draws every image and caption', async () => {
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('button', { name: /^Retrieval/ })
      .click();
    await page.getByRole('tab', { name: 'Whole map' }).click();
    await page.locator('[data-testid="whole-map"][data-stage="full"]').waitFor({ timeout: 120_000 });
    const count = await page.getByTestId('map-count').textContent();
    expect(count).toMatch(/^3,001 of 3,001 items/); // 500 images and 2,501 captions
    await page.getByLabel('Colour by').selectOption('split');
    await shot('whole-map.png');
  });

  it('colours by label state, and follows a label edit', async () => {
    await page.getByLabel('Colour by').selectOption('label');
    const legend = page.locator('.whole-map .legend');
    await legend.getByText('edited 0').waitFor();
    const datasetId = await page.evaluate(async () => (await (window as any).mome.listDatasets())[0].id);
    await page.evaluate(
      (id) =>
        (window as any).mome.editLabels({
          edits: [{ datasetId: id, kind: 'image', key: '3', field: 'flag', value: 'bad' }],
        }),
      datasetId,
    );
    await legend.getByText('edited 1').waitFor();
    await page.getByLabel('Colour by').selectOption('split');
  });

  it('previews the point under the pointer', async () => {
    const box = (await page.locator('canvas.whole-map-canvas').boundingBox())!;
    const { xs, ys } = await screenPositions();
    const i = xs.findIndex((x, k) => Math.abs(x - box.width / 2) < box.width / 4 && ys[k] > 40);
    await page.mouse.move(box.x + xs[i], box.y + ys[i]);
    const hover = page.getByTestId('map-hover');
    await hover.locator('strong').waitFor();
    expect(await hover.textContent()).toMatch(/^(image|caption) \S+/);
    await shot('whole-map-hover.png');
  });

  it('opens the points inside a lasso in the selection grid, and an item from there', async () => {
    const canvas = page.locator('canvas.whole-map-canvas');
    const box = (await canvas.boundingBox())!;
    const { xs, ys, n } = await screenPositions();
    // the left half of the map, as a lasso of many small moves
    const [l, t, r, b] = [3, 3, box.width / 2, box.height - 3];
    const expected = xs.filter((x, k) => x > l && x < r && ys[k] > t && ys[k] < b).length;
    expect(expected).toBeGreaterThan(0);
    expect(expected).toBeLessThan(n);
    await page.getByRole('button', { name: 'Lasso' }).click();
    await page.mouse.move(box.x + l, box.y + t);
    await page.mouse.down();
    const corners: [number, number][] = [
      [r, t],
      [r, b],
      [l, b],
      [l, t],
    ];
    let [px, py] = [l, t];
    for (const [cx, cy] of corners) {
      for (let s = 1; s <= 10; s++)
        await page.mouse.move(box.x + px + ((cx - px) * s) / 10, box.y + py + ((cy - py) * s) / 10);
      [px, py] = [cx, cy];
    }
    await page.mouse.up();
    const grid = page.getByTestId('selection-grid');
    await grid.waitFor();
    const selected = Number(await grid.getAttribute('data-count'));
    expect(Math.abs(selected - expected)).toBeLessThanOrEqual(2); // points on the lasso's edge may fall either way
    await grid.locator('li img').first().waitFor();
    expect(await grid.locator('li').count()).toBe(Math.min(120, selected));
    await canvas.scrollIntoViewIfNeeded();
    await shot('whole-map-lasso.png'); // the selection highlighted, the rest dimmed
    await grid.scrollIntoViewIfNeeded();
    await page.waitForFunction(() =>
      [...document.querySelectorAll<HTMLImageElement>('.selection-cells img')].slice(0, 14).every((i) => i.complete),
    );
    await shot('whole-map-selection.png');

    await grid.locator('li button').first().click();
    await page.getByRole('tab', { name: 'Queries', selected: true }).waitFor();
    await page.getByTestId('item-detail').waitFor();
  });
});
