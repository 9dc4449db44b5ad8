// `npm run bench -- browse`: the full COCO-Karpathy shape in the real UI. Imports 123,287 images / 616,767
// captions (image files absent: thumbnails show as unavailable), serves the app, and in Chromium measures
// the time from opening the dataset to the first grid paint, and the longest main-thread task (the
// browser's own long-task timing) while scrolling through 10,000 rows of the grid.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchChromium, startServe } from '../test/e2e/harness';
import { writeKarpathyScale } from './karpathy-scale';
import { observedPage } from './observed-page';

export async function benchBrowse(): Promise<Record<string, unknown>> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mome-bench-browse-'));
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mome-bench-home-'));
  writeKarpathyScale(root);
  const repo = path.resolve(import.meta.dirname, '..');
  execFileSync(process.execPath, [path.join(repo, 'scripts', 'build-renderer.mjs')], { stdio: 'inherit' });
  execFileSync(process.execPath, ['--import', 'tsx', 'electron/cli/main.ts', 'import', root, '--home', home], {
    cwd: path.resolve(import.meta.dirname, '..'),
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const serve = await startServe({ home });
  const browser = await launchChromium();
  try {
    const { page, pageErrors, longTasks } = await observedPage(browser, serve.url);
    // open the dataset: click Browse and wait for the first grid cell with its caption painted
    const t0 = await page.evaluate(() => performance.now());
    await page.getByTestId('dataset-table').getByRole('button', { name: 'Browse' }).click();
    await page.waitForFunction(() => {
      const cap = document.querySelector('.cell .caption');
      return cap && cap.textContent && cap.textContent.length > 0;
    });
    const painted = await page.evaluate(
      () => new Promise<number>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(performance.now())))),
    );
    const firstPaintMs = painted - t0;
    const openLongTasks = await longTasks();

    // scroll 10,000 rows in steps, letting every frame render, waiting for the rows to be filled at the end
    const rows = await page.evaluate(async () => {
      const el = document.querySelector('[data-testid="grid"]') as HTMLElement;
      const rowH = 210;
      const target = 10_000 * rowH;
      const steps = 400;
      for (let i = 1; i <= steps; i++) {
        el.scrollTop = (target * i) / steps;
        await new Promise((r) => requestAnimationFrame(() => r(null)));
      }
      return Math.round(el.scrollTop / rowH);
    });
    await page
      .waitForFunction(() => document.querySelectorAll('.cell .caption').length > 0, undefined, { timeout: 30_000 })
      .catch(async (e) => {
        const state = await page.evaluate(() => ({
          cells: document.querySelectorAll('.cell').length,
          loading: document.querySelectorAll('.cell .loading').length,
          text: document.querySelector('main')?.textContent?.slice(0, 300),
        }));
        await page.screenshot({ path: '/tmp/browse-fail.png' });
        console.error(pageErrors);
        throw new Error(
          `rows did not fill after scrolling: ${JSON.stringify(state)}\n${serve.output().slice(-2000)}\n${e}`,
        );
      });
    const scrollLongTasks: number[] = await longTasks();
    return {
      benchmark: 'browse',
      images: 123_287,
      captions: 616_767,
      firstGridPaintMs: firstPaintMs,
      openLongestTaskMs: Math.max(0, ...openLongTasks),
      scrolledRows: rows,
      scrollLongTasks: scrollLongTasks.length,
      scrollLongestTaskMs: Math.max(0, ...scrollLongTasks),
      goals: { firstGridPaintMs: 1500, scrollLongestTaskMs: 100 },
    };
  } finally {
    await browser.close();
    await serve.stop();
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(home, { recursive: true, force: true });
  }
}
