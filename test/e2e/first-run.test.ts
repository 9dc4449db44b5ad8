// Journey 1: a first start with nothing downloaded shows the shipped sample datasets, ready to browse and fix.
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultModelDir } from '../../electron/backend/assets';
import { launchChromium, repoRoot, screenshotDir, startServe, type Serve } from './harness';

let serve: Serve;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  serve = await startServe({ samples: true });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
  await page.goto(serve.url);
});
afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

describe('first run', () => {
  it('imports the shipped samples as jobs and lists them on Datasets', async () => {
    const samples = fs.readdirSync(path.join(repoRoot, 'assets', 'datasets')).sort();
    expect(samples).toEqual(['coco-sample', 'flickr30k-sample', 'nlvr2-sample']);
    const table = page.getByTestId('dataset-table');
    for (const name of samples) await table.getByRole('cell', { name, exact: true }).waitFor({ timeout: 60_000 });
    const coco = table.getByRole('row').filter({ hasText: 'coco-sample' });
    expect(await coco.getByRole('cell').nth(2).textContent()).toBe('500');
    fs.mkdirSync(screenshotDir, { recursive: true });
    await page.screenshot({ path: path.join(screenshotDir, 'first-run-datasets.png'), fullPage: true });
  });

  // the tiny model is trained and shipped separately; without it the app opens with no model active
  it.skipIf(!defaultModelDir())('opens with the shipped tiny model active, on the CPU', async () => {
    await page.getByTestId('status-model').filter({ hasText: 'mome-tiny' }).waitFor();
    expect(await page.getByTestId('status-provider').textContent()).toContain('CPU');
    // its card: registered in place from assets/, active, where it runs and why
    await page.keyboard.press('Alt+7');
    const card = page.getByTestId('model-card');
    await card.filter({ hasText: 'mome-tiny' }).waitFor();
    expect(await card.textContent()).toContain(path.join('assets', 'models', 'mome-tiny'));
    expect(await page.getByTestId('card-provider').textContent()).toMatch(/^CPU: /);
    await page.keyboard.press('Alt+1');
  });

  it('shows NLVR2 pairs side by side with their sentence and label, and F flips the label', async () => {
    await page
      .getByTestId('dataset-table')
      .getByRole('row')
      .filter({ hasText: 'nlvr2-sample' })
      .getByRole('button', { name: 'Browse' })
      .click();
    await page.getByTestId('browse-total').filter({ hasText: '300 examples' }).waitFor();
    await page.locator('.cell[data-index="0"] .pair-row img').first().waitFor();
    await page.locator('.cell[data-index="0"]').click();
    const label = page.getByTestId('nlvr2-label');
    const before = (await label.textContent())!.includes('True');
    const flipped = before ? 'False' : 'True';
    await page.keyboard.press('f'); // one keystroke: flipped, and on to the next example
    await page.locator('.cell.cursor[data-index="1"]').waitFor();
    await page
      .locator('.cell[data-index="0"]')
      .filter({ hasText: `corrected (was ${before ? 'True' : 'False'})` })
      .waitFor();
    expect(await page.locator('.cell[data-index="0"] [data-testid="cell-label"]').textContent()).toBe(flipped);
    await page.keyboard.press('p'); // back to the previous example
    await label.filter({ hasText: flipped }).filter({ hasText: 'corrected' }).waitFor();
    await page.screenshot({ path: path.join(screenshotDir, 'first-run-nlvr2.png'), fullPage: true });
  });

  it('flips a selection of NLVR2 examples in bulk, and one Ctrl+Z takes it all back', async () => {
    await page.keyboard.press('Escape'); // close the item panel
    const cellLabel = (i: number) => page.locator(`.cell[data-index="${i}"] [data-testid="cell-label"]`);
    const original = await Promise.all([2, 3, 4].map((i) => cellLabel(i).textContent()));
    await page.locator('.cell[data-index="2"]').click({ modifiers: ['Control'] });
    await page.locator('.cell[data-index="4"]').click({ modifiers: ['Shift'] });
    await page.getByTestId('bulk-actions').filter({ hasText: '3 selected' }).waitFor();
    await page.keyboard.press('f');
    for (const [j, i] of [2, 3, 4].entries()) {
      await page
        .locator(`.cell[data-index="${i}"]`)
        .filter({ hasText: `corrected (was ${original[j]})` })
        .waitFor();
    }
    await page.screenshot({ path: path.join(screenshotDir, 'bulk-flip.png'), fullPage: true });
    await page.keyboard.press('Control+z');
    await page.waitForFunction(
      (want) =>
        [2, 3, 4].every(
          (i, j) =>
            document.querySelector(`.cell[data-index="${i}"] [data-testid="cell-label"]`)?.textContent === want[j],
        ),
      original,
    );
    expect(await page.locator('.cell[data-index="0"]').textContent()).toContain('corrected'); // the earlier step stays
    await page.keyboard.press('Escape');
    expect(await page.getByTestId('bulk-actions').count()).toBe(0);
  });
});
