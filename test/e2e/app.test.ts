// End to end: the real renderer in Debian's Chromium against `npm run serve` (browser mode).
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, screenshotDir, startServe, type Serve } from './harness';
import { cocoImages } from '../integration/helpers/datasets';
import { tempDir } from '../integration/helpers/temp';

const VIEWS = ['Datasets', 'Browse', 'Retrieval', 'NLVR2', 'Labels', 'Fine-tune', 'Models', 'Jobs', 'Review'];
let serve: Serve;
let browser: Browser;
let page: Page;
let dataset: string;
const pageErrors: string[] = [];

async function makeDataset(): Promise<string> {
  const root = tempDir('mome-e2e-coco-');
  const images = cocoImages(60);
  fs.mkdirSync(path.join(root, 'train2014'));
  fs.mkdirSync(path.join(root, 'val2014'));
  fs.writeFileSync(path.join(root, 'dataset_coco.json'), JSON.stringify({ images, dataset: 'coco' }));
  for (const [i, img] of images.entries()) {
    const hue = (i * 47) % 360;
    const jpg = await sharp({ create: { width: 320, height: 240, channels: 3, background: `hsl(${hue}, 60%, 50%)` } })
      .composite([
        {
          input: Buffer.from(
            `<svg width="320" height="240"><circle cx="${80 + (i % 5) * 40}" cy="120" r="50" fill="white"/></svg>`,
          ),
        },
      ])
      .jpeg()
      .toBuffer();
    fs.writeFileSync(path.join(root, img.filepath!, img.filename), jpg);
  }
  // enough files that the scan's progress is observable
  for (let d = 0; d < 60; d++) {
    const dir = path.join(root, 'extra', `d${d}`);
    fs.mkdirSync(dir, { recursive: true });
    for (let f = 0; f < 100; f++) fs.writeFileSync(path.join(dir, `f${f}.txt`), 'x');
  }
  return root;
}

async function shot(name: string) {
  fs.mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true });
}

beforeAll(async () => {
  dataset = await makeDataset();
  serve = await startServe();
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on(
    'console',
    (m) => m.type() === 'error' && !/Failed to load resource/.test(m.text()) && pageErrors.push(m.text()),
  );
  await page.goto(serve.url);
});
afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

describe('the app shell in Chromium (browser mode)', () => {
  it('renders the navigation, the status bar and strips the token from the address', async () => {
    const nav = page.getByRole('navigation', { name: 'Main' });
    for (const v of VIEWS)
      await expect(nav.getByRole('button', { name: new RegExp(`^${v}`) }).count()).resolves.toBe(1);
    await page.getByTestId('status-mode').filter({ hasText: 'Browser mode' }).waitFor();
    expect(await page.getByTestId('status-model').textContent()).toContain('No model active');
    expect(page.url()).not.toContain('token=');
  });

  it('navigates to every view by click and by keyboard, and saves a screenshot of each', async () => {
    for (const [i, v] of VIEWS.entries()) {
      await page
        .getByRole('navigation', { name: 'Main' })
        .getByRole('button', { name: new RegExp(`^${v}`) })
        .click();
      await page.getByRole('heading', { level: 1, name: v }).waitFor();
      await shot(v.toLowerCase().replace(/[^a-z0-9]+/g, '-'));
      await page.keyboard.press(`Alt+${((i + 1) % VIEWS.length) + 1}`);
      await page.getByRole('heading', { level: 1, name: VIEWS[(i + 1) % VIEWS.length] }).waitFor();
    }
    await page.keyboard.press('?');
    await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor();
    await shot('help');
    await page.keyboard.press('Escape');
    expect(await page.getByRole('dialog').count()).toBe(0);
  });

  it('exposes window.mome and rejects a malformed call with a clear error', async () => {
    const r = await page.evaluate(async () => {
      const api = (window as any).mome;
      try {
        await api.getJob({ id: -1 });
        return null;
      } catch (e: any) {
        return { code: e.code, message: e.message };
      }
    });
    expect(r?.code).toBe('invalid_arguments');
    expect(r?.message).toMatch(/getJob: id/);
  });

  it('a folder scan started from the UI shows progress and finishes with the right counts', async () => {
    await page.keyboard.press('Alt+1');
    await page.getByLabel('Dataset folder').fill(dataset);
    await page.getByRole('button', { name: 'Scan folder' }).click();
    const row = page.locator('tr[data-job-id]').first();
    await row.waitFor();
    await page.locator('tr[data-job-id][data-state="succeeded"]').first().waitFor({ timeout: 60_000 });
    const result = page.getByTestId('scan-result');
    await result.waitFor();
    const text = await result.textContent();
    expect(text).toContain('6,061'); // 60 images + 6,000 extra files + the annotation file
    expect(text).toContain('coco');
    await shot('datasets-scan');
    await page.keyboard.press('Alt+8');
    expect(await page.locator('tr[data-job-id]').count()).toBeGreaterThan(0);
  });

  it('imports the dataset as a job and browses its thumbnails', async () => {
    await page.keyboard.press('Alt+1');
    await page.getByLabel('Dataset folder').fill(dataset);
    await page.getByRole('button', { name: 'Import' }).click();
    await page.getByTestId('dataset-table').getByText('60', { exact: true }).first().waitFor({ timeout: 60_000 });
    await page.getByTestId('dataset-table').getByRole('button', { name: 'Browse' }).click();
    await page.getByRole('heading', { level: 1, name: 'Browse' }).waitFor();
    await page.getByTestId('browse-total').filter({ hasText: '60 images' }).waitFor();
    await page.locator('.cell img.thumb').first().waitFor();
    await page.waitForFunction(() =>
      [...document.querySelectorAll('.cell img.thumb')].some((i) => (i as HTMLImageElement).naturalWidth > 0),
    );
    // scrolling re-renders the visible rows (and must not break the view)
    await page.getByTestId('grid').evaluate((el) => (el.scrollTop = 2000));
    await page.waitForFunction(() => Number(document.querySelector('.cell')?.getAttribute('data-index')) > 0);
    await page.getByTestId('grid').evaluate((el) => (el.scrollTop = 0));
    await page.locator('.cell[data-index="0"] .caption').waitFor();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Enter');
    await page
      .getByRole('complementary', { name: 'item details' })
      .getByText('A photo number 1 showing thing 0.')
      .waitFor();
    await shot('browse-item');
    await page.keyboard.press('Escape');
    // Space shows the item under the cursor at full size, the original file (320 x 240), not a thumbnail
    await page.keyboard.press(' ');
    const full = page.getByRole('dialog', { name: 'full image' }).locator('img');
    await page.waitForFunction(
      () => (document.querySelector('[aria-label="full image"] img') as HTMLImageElement)?.naturalWidth > 0,
    );
    expect(await full.evaluate((i) => (i as HTMLImageElement).naturalWidth)).toBe(320);
    await page.keyboard.press(' ');
    await full.waitFor({ state: 'detached' });
    await page.keyboard.press('/');
    await page.keyboard.type('number 42');
    await page.keyboard.press('Enter');
    await page
      .getByTestId('browse-total')
      .filter({ hasText: /^1 image$/ })
      .waitFor();
  });

  it('importing the same folder again offers a refresh instead of a duplicate', async () => {
    await page.keyboard.press('Alt+1');
    await page.getByLabel('Dataset folder').fill(dataset);
    const asked = new Promise<string>((resolve) =>
      page.once('dialog', (d) => {
        resolve(d.message());
        void d.accept();
      }),
    );
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    expect(await asked).toMatch(/already imported as dataset \d+[\s\S]*Refresh it now\?/);
    await page.locator('tr[data-job-id][data-state="succeeded"]').first().waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('dataset-table').locator('tbody tr').count()).toBe(1);
  });

  it('labels with one key per action, shows edits live in a second window, and undoes with Ctrl+Z', async () => {
    await page.keyboard.press('Alt+2');
    await page.getByLabel('Search captions').fill('');
    await page.getByLabel('Search captions').press('Enter');
    await page.getByTestId('browse-total').filter({ hasText: '60 images' }).waitFor();
    await page.getByLabel('Search captions').blur();
    await page.locator('.cell[data-index="0"] .caption').click();
    const panel = page.getByRole('complementary', { name: 'item details' });
    await panel.getByText('A photo number 0 showing thing 0.').waitFor();
    const other = await browser.newPage();
    await other.goto(serve.url);
    await other
      .getByRole('navigation', { name: 'Main' })
      .getByRole('button', { name: /^Labels/ })
      .click();
    await other.getByRole('heading', { level: 1, name: 'Labels' }).waitFor();
    await page.keyboard.press('j'); // second caption
    await page.keyboard.press('e');
    const input = panel.getByLabel('Edit caption');
    await input.fill('A corrected caption for image zero.');
    await input.press('Enter');
    await panel.getByText('A corrected caption for image zero.').waitFor();
    await page.keyboard.press('b'); // flag it bad
    await panel.locator('.tag-bad').waitFor();
    // the other window sees both edits without reloading
    await other.getByTestId('label-table').getByText('A corrected caption for image zero.').waitFor();
    await other
      .getByTestId('label-table')
      .getByText('"bad"')
      .or(other.getByTestId('label-table').getByText('bad', { exact: true }))
      .first()
      .waitFor();
    await shot('labels-live');
    await other.close();
    await page.keyboard.press('Control+z'); // undo the flag
    await panel.locator('.tag-bad').waitFor({ state: 'detached' });
    await page.keyboard.press('Control+z'); // undo the edit
    await panel.getByText('A photo number 0 showing thing 1.').waitFor();
    await page.keyboard.press('Control+Shift+z'); // redo the edit
    await panel.getByText('A corrected caption for image zero.').waitFor();
    await shot('browse-labeling');
  });

  it('flags the image itself with Shift+B, and the Labels view filters by time', async () => {
    const panel = page.getByRole('complementary', { name: 'item details' });
    await panel.getByTestId('image-labels').waitFor();
    await page.keyboard.press('Shift+B');
    await panel.getByTestId('image-labels').locator('.tag-bad').waitFor();
    await page.keyboard.press('Alt+5');
    const table = page.getByTestId('label-table');
    await table.getByRole('cell', { name: 'image 0', exact: true }).waitFor();
    const from = page.getByLabel('Filter from time');
    await from.fill('2099-01-01T00:00');
    await page.getByText('0 label events').waitFor();
    await from.fill('2000-01-01T00:00');
    await table.getByRole('cell', { name: 'image 0', exact: true }).waitFor();
    await shot('labels-view');
    // each label opens its item in Browse
    await table.getByRole('button', { name: 'image 0', exact: true }).first().click();
    await page.getByRole('heading', { level: 1, name: 'Browse' }).waitFor();
    await page
      .getByRole('complementary', { name: 'item details' })
      .getByTestId('image-labels')
      .filter({ hasText: 'Image 0' })
      .waitFor();
  });

  it('exports the corrected dataset in its original format, and the export imports as the corrected dataset', async () => {
    await page.keyboard.press('Alt+1');
    await page.getByTestId('dataset-table').getByRole('button', { name: 'Export' }).click();
    const out = path.join(tempDir('mome-e2e-export-'), 'coco-corrected');
    await page.getByLabel('Export to folder').fill(out);
    await page.getByTestId('export-form').getByRole('button', { name: 'Export', exact: true }).click();
    const result = page.getByTestId('export-result');
    await result.waitFor({ timeout: 60_000 });
    expect(await result.textContent()).toMatch(/captions edited\s*1/);
    const exported = JSON.parse(fs.readFileSync(path.join(out, 'dataset_coco.json'), 'utf8'));
    expect(exported.images[0].sentences[1].raw).toBe('A corrected caption for image zero.');
    expect(fs.readFileSync(path.join(dataset, 'dataset_coco.json'), 'utf8')).not.toContain('corrected caption');
    const events = fs
      .readFileSync(path.join(out, 'labels.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events.some((e) => e.view === 'browse' && e.field === 'raw')).toBe(true);
    await shot('export');
    await page.getByLabel('Dataset folder').fill(out);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page
      .getByTestId('dataset-table')
      .getByRole('row')
      .filter({ hasText: 'coco-corrected' })
      .getByRole('cell', { name: '60', exact: true })
      .first()
      .waitFor({ timeout: 60_000 });
  });

  it('raised no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
