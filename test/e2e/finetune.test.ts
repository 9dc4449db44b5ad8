// Journey 5: fine-tune in one click from the UI and see what changed: the sheet shows what will be used and a
// time estimate, the job shows its curve and log, and the new version is compared before/after and made active.
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../integration/helpers/temp';
import { randomModelDir } from '../integration/helpers/finetune';
import { launchChromium, repoRoot, screenshotDir, startServe, type Serve } from './harness';

let serve: Serve;
let browser: Browser;
let page: Page;

/** Calls window.mome in the page and waits for the job it returns. */
async function job(method: string, args: object): Promise<{ state: string; result: unknown; error: string | null }> {
  return page.evaluate(
    async ([m, a]) => {
      const api = (window as any).mome;
      const j = await api[m](a);
      for (;;) {
        const now = await api.getJob({ id: j.id });
        if (!['running', 'queued'].includes(now.state)) return now;
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    [method, args] as const,
  );
}

beforeAll(async () => {
  const model = randomModelDir(path.join(tempDir('mome-e2e-ft-'), 'tiny-random'));
  serve = await startServe();
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(serve.url);
  const ds = await job('startDatasetImport', { path: path.join(repoRoot, 'assets', 'datasets', 'nlvr2-sample') });
  expect(ds.state).toBe('succeeded');
  expect((await job('startModelImport', { path: model })).state).toBe('succeeded');
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

describe('fine-tune', () => {
  it('runs a fine-tune from the sheet and shows the curve, the log and the before/after comparison', async () => {
    // journey 5 starts on the dataset: its Fine-tune button opens the view with that dataset chosen
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('button', { name: /^Datasets/ })
      .click();
    await page
      .getByRole('row', { name: /nlvr2-sample/ })
      .getByRole('button', { name: 'Fine-tune' })
      .click();
    await page
      .getByTestId('finetune-summary')
      .filter({ hasText: 'NLVR2 on nlvr2-sample train with my 0 corrections' })
      .waitFor();
    await page.getByRole('button', { name: 'Fine-tune…' }).click();
    const sheet = page.getByTestId('finetune-sheet');
    expect(await sheet.getByTestId('finetune-counts').textContent()).toMatch(/Training examples258/);
    expect(await sheet.getByTestId('finetune-estimate').textContent()).toMatch(/About \d+( min)? \d* ?s for 80 steps/);
    await sheet.getByLabel('Max steps').fill('6');
    await sheet.getByLabel('Batch size').fill('16');
    expect(await sheet.getByTestId('finetune-estimate').textContent()).toMatch(/for 6 steps/);
    await sheet.getByRole('button', { name: 'Start' }).click();
    const detail = page.getByTestId('finetune-detail');
    await detail.getByTestId('finetune-state').filter({ hasText: 'succeeded' }).waitFor({ timeout: 180_000 });
    await detail.getByTestId('loss-chart').waitFor();
    expect(await detail.getByTestId('loss-chart').getAttribute('aria-label')).toMatch(/over 6 steps/);
    expect(await detail.getByTestId('finetune-log').textContent()).toContain('step 6/6');
    const panel = page.getByTestId('before-after');
    await panel.getByTestId('run-comparison').waitFor({ timeout: 60_000 });
    expect(await panel.textContent()).toMatch(/Accuracy/);
    fs.mkdirSync(screenshotDir, { recursive: true });
    await page.screenshot({ path: path.join(screenshotDir, 'finetune.png'), fullPage: true });
    await panel.getByRole('button', { name: 'Make active' }).click();
    await panel.getByText('active', { exact: true }).waitFor();
    const models = await page.evaluate(() => (window as any).mome.listModels({}));
    const active = models.find((m: { active: boolean }) => m.active);
    expect(active.parentId).not.toBeNull();
    expect(active.name).toMatch(/-ft-nlvr2-sample-/);
    // the new version's card: its lineage, with the held-out difference from its parent the job recorded
    await page.keyboard.press('Alt+7');
    await page.locator(`tr[data-model="${active.name}"]`).click();
    const heldOut = page.getByTestId('model-card').getByTestId('card-held-out');
    await heldOut.waitFor({ timeout: 30_000 });
    const card = await page.evaluate((id) => (window as any).mome.getModelCard({ id }), active.id);
    const [acc] = card.heldOut.differences;
    expect(await heldOut.getByTestId('held-out-accuracy').textContent()).toContain(acc.label);
    expect(await heldOut.textContent()).toMatch(/McNemar p = /);
    await page.getByTestId('model-card').screenshot({ path: path.join(screenshotDir, 'model-card-lineage.png') });
  }, 240_000);
});
