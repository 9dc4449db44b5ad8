// Search in the UI with the shipped tiny model on the COCO sample: a caption typed into Retrieval's search bar
// (its split encoded first, with progress), M and H on a result with the Retrieval view's pair labels, Ctrl+Z
// undoes; on Browse a free-text query that is too long says it was cut, O opens a result in the item panel; M on a
// result that outranks the caption's own image moves the evaluation's "with M" figures.
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobInPage, launchChromium, repoRoot, screenshotDir, startServe, type Serve } from './harness';

let serve: Serve;
let browser: Browser;
let page: Page;
let datasetId: number;

const shot = (name: string) => {
  fs.mkdirSync(screenshotDir, { recursive: true });
  return page.screenshot({ path: path.join(screenshotDir, name), fullPage: true });
};

const nav = (name: string) =>
  page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('button', { name: new RegExp(`^${name}`) })
    .click();

const api = <T>(method: string, args: Record<string, unknown>) =>
  page.evaluate(([m, a]) => (window as any).mome[m as string](a), [method, args] as const) as Promise<T>;

beforeAll(async () => {
  serve = await startServe();
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(serve.url);
  await page.evaluate(
    async (p) => {
      const mome = (window as any).mome;
      let j = await mome.startDatasetImport({ path: p });
      while (j.state === 'queued' || j.state === 'running') {
        await new Promise((r) => setTimeout(r, 200));
        j = await mome.getJob({ id: j.id });
      }
    },
    path.join(repoRoot, 'assets', 'datasets', 'coco-sample'),
  );
  datasetId = (await api<{ id: number }[]>('listDatasets', {}))[0].id;
});
afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

const pairEvents = () =>
  api<{ items: { key: string; newValue: unknown; view: string }[] }>('listLabelEvents', { kind: 'pair', limit: 20 });

describe('search', () => {
  it('a caption on Retrieval: the split is encoded once, then its images ranked with its own outlined', async () => {
    const page1 = await api<{ items: { id: number }[] }>('browseImages', { datasetId, split: 'test', limit: 1 });
    const item = await api<{ captions: { raw: string }[] }>('getImageItem', { id: page1.items[0].id });
    await nav('Retrieval');
    const bar = page.getByTestId('search');
    await bar.getByLabel('Search images by text').fill(item.captions[0].raw);
    await bar.getByLabel('Search split').selectOption('test');
    await bar.getByRole('button', { name: 'Search' }).click();
    await page.getByTestId('search-encoding').waitFor({ timeout: 30_000 });
    await page.getByTestId('search-hit').first().waitFor({ timeout: 120_000 });
    expect(await page.getByTestId('search-hit').count()).toBe(20); // k 24, the test split has 20
    await expect.poll(() => page.getByTestId('search-status').textContent()).toMatch(/The query is caption \d+/);
    expect(await page.locator('[data-testid="search-hit"].truth').count()).toBe(1);
    await shot('search-retrieval.png');
  });

  it('M marks the picked result also a match, Ctrl+Z undoes it, H marks a hard negative', async () => {
    const hits = page.getByTestId('search-hit');
    const truthAt = await hits.evaluateAll((fs) => fs.findIndex((f) => f.classList.contains('truth')));
    const pick = truthAt === 0 ? 1 : 0;
    await hits.nth(pick).click();
    await page.keyboard.press('m');
    await hits.nth(pick).locator('.badge.also_match').waitFor();
    const [mark] = (await pairEvents()).items;
    expect(mark).toMatchObject({ newValue: 'also_match', view: 'search' });
    expect(mark.key).toBe(
      `${/caption (\d+)/.exec((await page.getByTestId('search-status').textContent())!)![1]}|${await hits.nth(pick).getAttribute('data-imgid')}`,
    );
    await shot('search-marked.png');
    await page.keyboard.press('Control+z');
    await hits.nth(pick).locator('.badge.also_match').waitFor({ state: 'detached' });
    await page.getByTestId('search-results').focus();
    await page.keyboard.press('h');
    await hits.nth(pick).locator('.badge.hard_negative').waitFor();
    await page.keyboard.press('f');
    await hits.nth(pick).locator('.tag-bad').waitFor();
    // S: the images most like the picked one
    await page.keyboard.press('s');
    await expect.poll(() => page.getByTestId('search-status').textContent()).toMatch(/Images most like image/);
  });

  it('on Browse: a query longer than the model reads is cut and says so; O opens the result', async () => {
    await nav('Browse');
    const bar = page.getByTestId('search');
    await bar.getByLabel('Search images by text').fill(Array(30).fill('a large red circle').join(' and '));
    await bar.getByRole('button', { name: 'Search' }).click();
    await page.getByTestId('search-truncated').waitFor();
    const maxTextLen = (
      JSON.parse(fs.readFileSync(path.join(repoRoot, 'assets', 'models', 'mome-tiny', 'mome.json'), 'utf8')) as {
        max_text_len: number;
      }
    ).max_text_len;
    expect(await page.getByTestId('search-truncated').textContent()).toContain(`tokens; the model reads ${maxTextLen}`);
    await shot('search-browse-truncated.png');
    await page.getByTestId('search-results').focus();
    await page.keyboard.press('ArrowRight');
    const imgid = await page.locator('[data-testid="search-hit"].picked').getAttribute('data-imgid');
    await page.keyboard.press('o');
    const panel = page.getByRole('complementary', { name: 'item details' });
    await panel.waitFor();
    expect(await panel.textContent()).toContain(`imgid${imgid}`);
    await shot('search-open.png');
  });

  it('an empty query and an unknown split get clear messages', async () => {
    const bar = page.getByTestId('search');
    await bar.getByLabel('Search images by text').fill('   ');
    await bar.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => page.getByTestId('search-error').textContent()).toMatch(/query is empty/);
    const err = await api<unknown>('searchImages', { datasetId, split: 'nope', text: 'a cat' }).catch(
      (e: Error) => e.message,
    );
    expect(err).toMatch(/no split "nope"/);
  });

  it('M on a result that outranks the caption\'s own image moves the run\'s IR@1 "with M"', async () => {
    await jobInPage(page, 'startEvaluation', { task: 'retrieval', datasetId, split: 'test' });
    const [run] = await api<{ id: number; metrics: Record<string, number> }[]>('listEvalRuns', { datasetId });
    const { items } = await api<{ items: { key: string; rank: number; text: string | null }[] }>('getEvalItems', {
      runId: run.id,
      kind: 'caption',
      limit: 1000,
    });
    const missed = items.find((x) => x.rank > 0 && x.text)!; // its own image is not first
    await nav('Retrieval');
    const bar = page.getByTestId('search');
    await bar.getByLabel('Search images by text').fill(missed.text!);
    await bar.getByLabel('Search split').selectOption('test');
    await bar.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => page.getByTestId('search-status').textContent()).toContain(`caption ${missed.key}`);
    const first = page.getByTestId('search-hit').first();
    expect(await first.getAttribute('class')).not.toContain('truth');
    await first.click();
    await page.keyboard.press('m');
    await first.locator('.badge.also_match').waitFor();
    const withM = page.locator('[data-testid="metric-with-extras"][data-metric="ir_r1"]').first();
    await withM.waitFor();
    const num = (t: string | null) => Number((t ?? '').replace(/[^0-9.]/g, ''));
    // one more caption of the split counts as found at rank 1
    expect(num(await withM.textContent())).toBeCloseTo(run.metrics.ir_r1 + 100 / items.length, 1);
    await shot('search-mark-moves-metric.png');
  });

  it('C saves a free-text query as a new caption of the picked image, through the label history', async () => {
    const bar = page.getByTestId('search');
    await bar.getByLabel('Search images by text').fill('a lonely white star on green grass');
    await bar.getByRole('button', { name: 'Search' }).click();
    const hits = page.getByTestId('search-hit');
    await expect.poll(() => page.getByTestId('search-status').textContent()).not.toMatch(/The query is caption/);
    await hits.first().click();
    const imgid = await hits.first().getAttribute('data-imgid');
    await page.keyboard.press('c');
    await page.getByText(`Saved “a lonely white star on green grass” as a new caption of image ${imgid}`).waitFor();
    const events = await api<{ items: { key: string; field: string; newValue: unknown; view: string }[] }>(
      'listLabelEvents',
      { kind: 'caption', limit: 10 },
    );
    const raw = events.items.find((e) => e.field === 'raw' && e.newValue === 'a lonely white star on green grass');
    expect(raw).toMatchObject({ view: 'search' });
    expect(events.items.find((e) => e.key === raw!.key && e.field === 'image')?.newValue).toBe(imgid);
  });
});
