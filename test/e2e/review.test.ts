// A review session by keyboard (Review view, Alt+9) with the shipped tiny model on the shipped Flickr30K and NLVR2
// samples: evaluate from the view, the queue fills; K, H, M, A, S, F (with a corrected caption) each do what they
// say, in the label history with the Review view as their source; U takes the last decision back; a reload keeps
// the decided items out; a weight changes the order; a new evaluation re-scores the queue; NLVR2's F flips a label.
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
let flickr: number;
let nlvr2: number;
let otherModel: string;

const shot = (name: string) => {
  fs.mkdirSync(screenshotDir, { recursive: true });
  return page.screenshot({ path: path.join(screenshotDir, name), fullPage: true });
};
const api = (method: string, args: Record<string, unknown>) =>
  page.evaluate(([m, a]) => (window as any).mome[m as string](a), [method, args] as const);
const nav = (name: string) =>
  page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('button', { name: new RegExp(`^${name}`) })
    .click();
const current = () => page.getByTestId('review-item').getAttribute('data-key');
const progress = () => page.getByTestId('review-progress').innerText();

/**
 * Presses a key and waits until the card shows another item; returns the milliseconds from the key's event in the
 * page to the new item's card in the DOM (a MutationObserver), without the test driver's own latency.
 */
async function press(key: string): Promise<number> {
  const before = await current();
  await page.evaluate((k) => {
    const w = window as any;
    w.__next = new Promise<number>((resolve) => {
      let t0 = 0;
      window.addEventListener('keydown', () => (t0 = performance.now()), { capture: true, once: true });
      const obs = new MutationObserver(() => {
        const el = document.querySelector('[data-testid="review-item"]');
        if (t0 && el && el.getAttribute('data-key') !== k) {
          obs.disconnect();
          resolve(performance.now() - t0);
        }
      });
      obs.observe(document.body, { subtree: true, childList: true, attributes: true });
    });
  }, before);
  await page.keyboard.press(key);
  return page.evaluate(() => (window as any).__next as Promise<number>);
}

async function reviewEvents(datasetId: number) {
  const r = (await api('listLabelEvents', { datasetId, limit: 1000 })) as {
    items: {
      id: number;
      kind: string;
      key: string;
      field: string;
      newValue: unknown;
      view: string | null;
      action: string;
    }[];
  };
  return r.items.filter((e) => e.view === 'review').sort((a, b) => a.id - b.id);
}

beforeAll(async () => {
  otherModel = exportRandomModels([{ out: path.join(tempDir('mome-e2e-review-'), 'other'), seed: 11 }])[0];
  serve = await startServe();
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(serve.url);
  flickr = (
    await jobInPage(page, 'startDatasetImport', { path: path.join(repoRoot, 'assets', 'datasets', 'flickr30k-sample') })
  ).datasetId;
  nlvr2 = (
    await jobInPage(page, 'startDatasetImport', { path: path.join(repoRoot, 'assets', 'datasets', 'nlvr2-sample') })
  ).datasetId;
});
afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

describe('a review session by keyboard', () => {
  it('evaluates from the view and fills the queue', async () => {
    await page.keyboard.press('Alt+9');
    await page.getByTestId('review').waitFor();
    await page.getByLabel('Dataset', { exact: true }).selectOption(String(flickr));
    await page.getByText('No evaluation of this dataset yet').waitFor();
    await page.getByRole('button', { name: /^Evaluate all splits with the active model/ }).click();
    await page.getByTestId('review-item').waitFor({ timeout: 180_000 });
    await page.locator('.review-card img').first().waitFor();
    expect(await progress()).toMatch(/Decided 0 of \d+/);
    await shot('review-queue.png');
  });

  it('K, H, M, A, S and F each decide and move on; the history says so', async () => {
    const seen: string[] = [];
    const times: number[] = [];
    for (const key of ['k', 'h', 'm', 'a', 's']) {
      seen.push((await current())!);
      times.push(await press(key));
    }
    // F opens the fix: the corrected caption is saved with Enter
    seen.push((await current())!);
    await page.keyboard.press('f');
    const input = page.getByLabel('Corrected caption');
    await input.waitFor();
    await input.fill('a corrected caption written in review');
    await shot('review-fix.png');
    await input.press('Enter');
    await page.waitForFunction(
      (k) => document.querySelector('[data-testid="review-item"]')?.getAttribute('data-key') !== k,
      seen[5],
    );
    console.log(`review: next item after a decision (ms, in the page): ${times.map((t) => t.toFixed(0)).join(', ')}`);
    expect(await progress()).toMatch(/Decided 5 of/); // skip decides nothing

    const events = await reviewEvents(flickr);
    const on = (key: string) => events.filter((e) => e.key === key || e.key.startsWith(`${key}|`));
    expect(on(seen[0]).map((e) => [e.field, e.newValue])).toEqual([['note', 'reviewed: kept']]);
    expect(on(seen[1]).map((e) => [e.kind, e.field, e.newValue])).toEqual([['pair', 'relation', 'hard_negative']]);
    expect(on(seen[2]).map((e) => [e.kind, e.field, e.newValue])).toEqual([['pair', 'relation', 'also_match']]);
    expect(on(seen[3]).map((e) => [e.field, e.newValue])).toEqual([['flag', 'ambiguous']]);
    expect(on(seen[4])).toEqual([]);
    expect(on(seen[5]).map((e) => [e.field, e.newValue])).toEqual([['raw', 'a corrected caption written in review']]);
    await shot('review-progress.png');
  });

  it('U takes the last decision back and shows its item again', async () => {
    const fixed = (await reviewEvents(flickr)).find((e) => e.field === 'raw')!.key;
    await page.keyboard.press('u');
    await page.waitForFunction(
      (k) => document.querySelector('[data-testid="review-item"]')?.getAttribute('data-key') === k,
      fixed,
    );
    expect(await progress()).toMatch(/Decided 4 of/);
    const q = (await api('getReviewQueue', { datasetId: flickr })) as { decided: number };
    expect(q.decided).toBe(4);
  });

  it('after a reload the decided items stay out and the skipped one comes back first', async () => {
    const last = new Map<string, string>();
    for (const e of await reviewEvents(flickr)) last.set(e.key.split('|')[0], e.action);
    const decided = new Set([...last].filter(([, action]) => action !== 'undo').map(([key]) => key));
    expect(decided.size).toBe(4);
    await page.reload();
    await nav('Review');
    await page.getByLabel('Dataset', { exact: true }).selectOption(String(flickr));
    await page.getByTestId('review-item').waitFor();
    expect(await progress()).toMatch(/Decided 4 of/);
    const q = (await api('getReviewQueue', { datasetId: flickr, limit: 500 })) as { items: { key: string }[] };
    for (const it of q.items) expect(decided.has(it.key)).toBe(false);
    expect(await current()).toBe(q.items[0].key);
  });

  it('a weight changes the order', async () => {
    const before = await current();
    const slider = page.getByLabel('Label error weight');
    await slider.focus();
    await slider.press('Home'); // label error 0: uncertainty alone
    await page.waitForFunction(
      (k) => document.querySelector('[data-testid="review-item"]')?.getAttribute('data-key') !== k,
      before,
      {
        timeout: 30_000,
      },
    );
    await shot('review-weights.png');
    await page.getByRole('button', { name: 'Defaults' }).click();
    await page.waitForFunction(
      (k) => document.querySelector('[data-testid="review-item"]')?.getAttribute('data-key') === k,
      before,
      {
        timeout: 30_000,
      },
    );
  });

  it('another active model: the queue says it is stale; its evaluation re-scores the queue', async () => {
    const runBefore = ((await api('getReviewQueue', { datasetId: flickr })) as { run: { id: number } }).run.id;
    await jobInPage(page, 'startModelImport', { path: otherModel });
    const models = (await api('listModels', {})) as { id: number; dir: string; active: boolean }[];
    const imported = models.find((m) => !m.active);
    if (imported) await api('setActiveModel', { id: imported.id }); // (an import may already make it active)
    await nav('Models');
    await nav('Review');
    await page.getByTestId('review-stale').waitFor();
    await shot('review-stale.png');
    await page.getByRole('button', { name: /^Evaluate all splits with the active model/ }).click();
    await page.getByTestId('review-stale').waitFor({ state: 'detached', timeout: 180_000 });
    const runAfter = ((await api('getReviewQueue', { datasetId: flickr })) as { run: { id: number } }).run.id;
    expect(runAfter).toBeGreaterThan(runBefore);
    expect(await progress()).toMatch(new RegExp(`from run ${runAfter} `));
    expect(await progress()).toMatch(/Decided 4 of/); // decisions outlive the run they were made on
  });

  it('NLVR2: F flips the label of the example on screen', async () => {
    await page.getByLabel('Dataset', { exact: true }).selectOption(String(nlvr2));
    await page.getByText('No evaluation of this dataset yet').waitFor();
    await page.getByRole('button', { name: /^Evaluate all splits with the active model/ }).click();
    await page.getByTestId('review-item').waitFor({ timeout: 180_000 });
    await page.locator('.review-card .pair img').first().waitFor();
    const id = (await current())!;
    const label = /Label (True|False)/.exec(await page.getByTestId('review-item').innerText())![1] === 'True';
    await shot('review-nlvr2.png');
    await press('f');
    const flips = (await reviewEvents(nlvr2)).filter((e) => e.key === id);
    expect(flips.map((e) => [e.field, e.newValue])).toEqual([['label', !label]]);
  });
});
