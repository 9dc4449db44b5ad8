// Journey 2 (model side): import an official-format checkpoint from the UI, see its card, switch the active model.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTorchPython } from '../../scripts/lib.mjs';
import { writeRandomCheckpoint } from '../integration/helpers/models';
import { tempDir } from '../integration/helpers/temp';
import { launchChromium, repoRoot, screenshotDir, startServe, type Serve } from './harness';

let serve: Serve;
let browser: Browser;
let page: Page;
let checkpoint: string;
let data: string;
const VOCAB = path.join(repoRoot, '..', 'shared', 'fixtures', 'bert-base-uncased', 'vocab.txt');
/** Whether the converter would find a vocabulary on its own on this machine (then it never has to ask). */
const vocabFindable = () =>
  Boolean(process.env.MOME_BERT_VOCAB || process.env.HF_HOME || process.env.HUGGINGFACE_HUB_CACHE) ||
  fs.existsSync(path.join(os.homedir(), '.cache', 'huggingface', 'hub', 'models--bert-base-uncased'));

beforeAll(async () => {
  checkpoint = path.join(tempDir('mome-e2e-ckpt-'), 'vlmo_demo.pt');
  writeRandomCheckpoint(checkpoint, 2);
  data = tempDir('mome-e2e-synth-');
  execFileSync(findTorchPython()!, ['-m', 'mome', 'synth', '--kind', 'coco', '--size', '12', '--out', data], {
    env: { ...process.env, PYTHONPATH: path.join(repoRoot, 'model-runtime', 'python') },
    stdio: 'ignore',
  });
  serve = await startServe();
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
  await page.goto(serve.url);
});
afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

describe('models', () => {
  it('imports a checkpoint as a job, makes it active, and the status bar says which provider runs it', async () => {
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('button', { name: /^Models/ })
      .click();
    await page.getByText('No model imported yet').waitFor();
    await page.getByLabel('Checkpoint or model folder').fill(checkpoint);
    if (!vocabFindable()) {
      // no vocabulary beside the checkpoint nor in a Hugging Face cache: the app asks for that one file
      await page.getByRole('button', { name: 'Import', exact: true }).click();
      await page
        .getByTestId('model-import-error')
        .filter({ hasText: "needs bert-base-uncased's vocab.txt" })
        .waitFor({ timeout: 120_000 });
      expect(await page.locator('tr[data-job-id][data-state="failed"]').count()).toBe(1);
    }
    await page.getByLabel('BERT vocab.txt (if not found automatically)').fill(VOCAB);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    const row = page.locator('tr[data-model="vlmo_demo"]');
    await row.waitFor({ timeout: 120_000 });
    await page.getByTestId('status-model').filter({ hasText: 'vlmo_demo' }).waitFor();
    expect(await page.getByTestId('status-provider').textContent()).toContain('CPU');
    expect(await page.getByTestId('model-provider').textContent()).toMatch(/CUDA not available/);
    // the card: source with its hash, architecture, heads present, and where it runs and why
    const card = page.getByTestId('model-card');
    await card.filter({ hasText: 'vlmo_demo' }).waitFor();
    const text = (await card.textContent())!;
    expect(text).toContain(checkpoint);
    expect(text).toMatch(/SHA-256[0-9a-f]{64}/);
    expect(text).toMatch(/Depth4 layers/);
    expect(text).toMatch(/Heads present.*itc/);
    expect(await page.getByTestId('card-provider').textContent()).toMatch(/^CPU: CUDA not available/);
    fs.mkdirSync(screenshotDir, { recursive: true });
    await page.screenshot({ path: path.join(screenshotDir, 'models.png'), fullPage: true });
  });

  it('switches the active model from the UI', async () => {
    const first = await page.getByTestId('status-model').textContent();
    // a second version: the converted folder, described differently (the same folder again would be refused)
    const models = await page.evaluate(() => (window as any).mome.listModels({}));
    const second = path.join(tempDir('mome-e2e-model-'), 'vlmo_demo');
    fs.cpSync(models[0].dir, second, { recursive: true });
    const json = JSON.parse(fs.readFileSync(path.join(second, 'mome.json'), 'utf8'));
    fs.writeFileSync(path.join(second, 'mome.json'), JSON.stringify({ ...json, name: 'vlmo_demo_b' }));
    await page.getByLabel('Checkpoint or model folder').fill(second);
    await page.getByLabel('BERT vocab.txt (if not found automatically)').fill('');
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page.getByRole('button', { name: 'Make active' }).waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: 'Make active' }).click();
    await page.waitForFunction(
      (before) => document.querySelector('[data-testid="status-model"]')?.textContent !== before,
      first,
    );
    const after = await page.getByTestId('status-model').textContent();
    expect(after).toContain('vlmo_demo');
    expect(after).not.toBe(first);
  });

  it('runs on the CPU when the user chooses it explicitly', async () => {
    await page.getByLabel('Execution device').selectOption('cpu');
    await page.getByTestId('model-provider').filter({ hasText: 'CPU chosen explicitly' }).waitFor();
    await page.getByTestId('card-provider').filter({ hasText: 'CPU chosen explicitly' }).waitFor();
    await page.reload();
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('button', { name: /^Models/ })
      .click();
    expect(await page.getByLabel('Execution device').inputValue()).toBe('cpu');
    await page.getByLabel('Execution device').selectOption('auto');
    await page.getByTestId('model-provider').filter({ hasNotText: 'chosen explicitly' }).waitFor();
  });

  it("shows a model's evaluation runs on its card, with a chart across versions", async () => {
    // one run with each version (through the same API the Retrieval view uses)
    const runs = await page.evaluate(async (root) => {
      const api = (window as any).mome;
      const wait = async (id: number) => {
        for (;;) {
          const j = await api.getJob({ id });
          if (!['queued', 'running'].includes(j.state)) return j;
          await new Promise((r) => setTimeout(r, 200));
        }
      };
      const imported = await wait((await api.startDatasetImport({ path: root })).id);
      const split = 'test' in imported.result.splits ? 'test' : Object.keys(imported.result.splits)[0];
      const models = await api.listModels({});
      const states = [];
      for (const m of models) {
        const args = { task: 'retrieval', datasetId: imported.result.datasetId, split, modelDir: m.dir };
        states.push((await wait((await api.startEvaluation(args)).id)).state);
      }
      return states;
    }, data);
    expect(runs).toEqual(['succeeded', 'succeeded']);
    await page.keyboard.press('Alt+1');
    await page.keyboard.press('Alt+7');
    const active = page
      .locator('tr[data-model="vlmo_demo"]')
      .filter({ has: page.locator('strong', { hasText: 'active' }) });
    await active.click();
    const card = page.getByTestId('model-card');
    await card.getByTestId('model-runs').locator('tbody tr').first().waitFor({ timeout: 30_000 });
    expect(await card.getByTestId('model-runs').locator('tbody tr').count()).toBe(1);
    expect(await card.getByTestId('model-runs').textContent()).toMatch(/TR R@1 (100|\d{1,2})\.\d %/); // stored in percent
    // two versions, TR R@1 and IR R@1 each
    expect(await card.getByTestId('version-charts').locator('rect').count()).toBe(4);
    await card.screenshot({ path: path.join(screenshotDir, 'model-card.png') });
  }, 240_000);

  it('removes a model; it stays listed as removed, with its card', async () => {
    page.once('dialog', (d) => void d.accept());
    const rows = page.locator('tr[data-model="vlmo_demo"]');
    expect(await rows.count()).toBe(2);
    await rows.getByRole('button', { name: 'Remove' }).first().click();
    await page.waitForFunction(() => document.querySelectorAll('tr[data-model="vlmo_demo"]').length === 1);
    await page.getByLabel(/Show removed models/).check();
    const removed = page.locator('tr[data-model="vlmo_demo"]').filter({ hasText: 'removed' });
    await removed.waitFor();
    await removed.click();
    // the card's heading says so (the chart of another version's card names removed versions too)
    await page.getByTestId('model-card').locator('h2').filter({ hasText: 'removed' }).waitFor();
    expect(await page.getByTestId('model-card').textContent()).toContain('folder deleted');
    // its evaluation run stays, on the card of the removed model
    expect(await page.getByTestId('model-runs').locator('tbody tr').count()).toBe(1);
    await page.screenshot({ path: path.join(screenshotDir, 'models-removed.png'), fullPage: true });
  });
});
