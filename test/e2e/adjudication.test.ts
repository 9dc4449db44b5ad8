// Adjudication in the Labels view: with "corrections need review" on and the user name set in the view, ada's
// corrections are pending; bob judges the same pairs; cy filters by state, accepts and rejects, sees the
// agreement (kappa) and the conflict side by side; the export leaves the pending ones out; a snapshot taken
// in the view diffs against the dataset as imported.
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../integration/helpers/temp';
import { jobInPage, launchChromium, repoRoot, screenshotDir, startServe, type Serve } from './harness';

let serve: Serve;
let browser: Browser;
let page: Page;
let datasetId: number;

const shot = (name: string) => {
  fs.mkdirSync(screenshotDir, { recursive: true });
  return page.screenshot({ path: path.join(screenshotDir, name), fullPage: true });
};
const api = (method: string, args: Record<string, unknown>) =>
  page.evaluate(([m, a]) => (window as any).mome[m as string](a), [method, args] as const);

const SAMPLE = path.join(repoRoot, 'assets', 'datasets', 'coco-sample');
const sentids = (
  JSON.parse(fs.readFileSync(path.join(SAMPLE, 'dataset_coco.json'), 'utf8')) as {
    images: { sentences: { sentid: number }[] }[];
  }
).images
  .slice(0, 3)
  .map((im) => im.sentences[0].sentid);

beforeAll(async () => {
  serve = await startServe();
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1500, height: 950 } });
  await page.goto(serve.url);
  datasetId = (await jobInPage(page, 'startDatasetImport', { path: SAMPLE })).datasetId;
});
afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

const fieldRows = () => page.getByTestId('label-fields').locator('tbody tr');

async function setUserName(name: string) {
  const input = page.getByLabel('User name');
  await input.fill(name);
  await input.press('Enter');
  await page.waitForFunction(async (n) => (await (window as any).mome.getLabelSettings({})).userName === n, name);
}

async function filterState(state: string) {
  await page.getByLabel('Filter state').selectOption(state);
}

describe('adjudication in the Labels view', () => {
  it('filters by state, accepts and rejects, shows kappa and conflicts; the export leaves pending out', async () => {
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('button', { name: /^Labels/ })
      .click();
    const review = page.getByLabel('Corrections need review');
    expect(await review.isChecked()).toBe(false); // off by default
    await review.check();
    await page.getByText('A correction is pending until someone else accepts it').waitFor();
    await setUserName('ada');

    // ada's corrections (written under the user name), then bob's judgements of the same pairs
    const [a, b, c] = sentids;
    const pair = (s: number, i: number) => `${s}|${i}`;
    await api('editLabels', {
      edits: [
        { datasetId, kind: 'caption', key: String(a), field: 'raw', value: 'Two dogs on a beach.' },
        { datasetId, kind: 'caption', key: String(b), field: 'raw', value: 'A red bus in the rain.' },
        ...[
          ['hard_negative', 1],
          ['hard_negative', 2],
          ['also_match', 3],
          ['also_match', 4],
        ].map(([relation, img]) => ({
          datasetId,
          kind: 'pair',
          key: pair(c, img as number),
          field: 'relation',
          value: relation,
        })),
      ],
    });
    await api('editLabels', {
      author: 'bob',
      edits: [
        ['hard_negative', 1],
        ['hard_negative', 2],
        ['also_match', 3],
        ['hard_negative', 4],
      ].map(([relation, img]) => ({
        datasetId,
        kind: 'pair',
        key: pair(c, img as number),
        field: 'relation',
        value: relation,
      })),
    });

    // cy reviews
    await setUserName('cy');
    await page.getByRole('tab', { name: 'Review' }).click();
    await filterState('pending');
    await expect.poll(() => fieldRows().count()).toBe(6);
    expect(await page.getByTestId('field-counts').innerText()).toContain('6 pending');
    const row = (item: string) => fieldRows().filter({ hasText: item });
    await row(`caption ${a}`).getByRole('button', { name: 'Accept' }).click();
    await expect.poll(() => fieldRows().count()).toBe(5);
    await row(`caption ${b}`).getByRole('button', { name: 'Reject' }).click();
    await expect.poll(() => fieldRows().count()).toBe(4);
    await row(`pair ${pair(c, 1)}`)
      .getByRole('button', { name: 'Accept' })
      .click();
    await expect.poll(() => fieldRows().count()).toBe(3);
    expect(await page.getByTestId('field-counts').innerText()).toMatch(/3 pending · 2 accepted · 1 rejected/);

    await filterState('accepted');
    await expect.poll(() => fieldRows().count()).toBe(2);
    expect(await row(`caption ${a}`).innerText()).toContain('cy accepted');
    await filterState('rejected');
    await expect.poll(() => fieldRows().count()).toBe(1);
    expect(await fieldRows().first().innerText()).toContain(`caption ${b}`);

    // kappa between ada and bob over the 4 pairs: observed 3/4, chance 1/2, kappa 0.50
    expect(await page.getByTestId('label-agreement').innerText()).toMatch(/ada × bob: κ 0\.50 over 4 items/);
    // conflicts side by side: ada and bob's one disagreement, and ada's caption that cy rejected
    const conflicts = page.getByTestId('label-conflicts');
    await expect.poll(() => conflicts.locator('tbody tr').count()).toBe(2);
    expect(await conflicts.locator('tbody tr').allInnerTexts()).toEqual(
      expect.arrayContaining([expect.stringContaining(`caption ${b}`)]),
    );
    const cells = await conflicts
      .locator('tbody tr')
      .filter({ hasText: `pair ${pair(c, 4)}` })
      .locator('td')
      .allInnerTexts();
    const heads = await conflicts.locator('thead th').allInnerTexts();
    expect(cells[heads.indexOf('ada')]).toBe('also_match');
    expect(cells[heads.indexOf('bob')]).toBe('hard_negative');
    await filterState('');
    await expect.poll(() => fieldRows().count()).toBe(6);
    await shot('labels-review.png');

    // an export made now holds no pending correction, and says how many it left out
    const out = path.join(tempDir('mome-e2e-adj-'), 'export');
    const exported = await jobInPage(page, 'startDatasetExport', { datasetId, out });
    expect(exported.pendingLeftOut).toBe(3);
    const caps = new Map(
      (
        JSON.parse(fs.readFileSync(path.join(out, 'dataset_coco.json'), 'utf8')) as {
          images: { sentences: { sentid: number; raw: string }[] }[];
        }
      ).images.flatMap((im) => im.sentences.map((s) => [s.sentid, s.raw])),
    );
    expect(caps.get(a)).toBe('Two dogs on a beach.');
    expect(caps.get(b)).not.toBe('A red bus in the rain.');

    // a snapshot taken in the view, and what changed since the dataset was imported
    await page.getByRole('tab', { name: 'Snapshots' }).click();
    await page.getByLabel('Snapshot name').fill('after the first review');
    await page.getByRole('button', { name: 'Take snapshot' }).click();
    const snaps = page.getByTestId('snapshot-table').locator('tbody tr');
    await expect.poll(() => snaps.count()).toBe(1);
    expect(await snaps.first().innerText()).toMatch(/after the first review[\s\S]*cy[\s\S]*2[\s\S]*3/);
    await snaps.first().getByRole('button', { name: 'Changes since the one before' }).click();
    const diff = page.getByTestId('snapshot-diff');
    await diff.waitFor();
    expect(await diff.innerText()).toMatch(/2 labels changed/);
    expect(
      await diff
        .locator('tbody tr')
        .filter({ hasText: `caption ${a}` })
        .innerText(),
    ).toMatch(/ada\s+cy/);
    await shot('labels-snapshots.png');
  });
});
