// Two browser-mode servers on 127.0.0.1 side by side, open in two pages of one browser context (one cookie
// jar): each page keeps its own server's token (sessionStorage is per port), so opening one never logs the
// other out, and no token cookie exists for other services on 127.0.0.1 to receive.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, startServe, type Serve } from './harness';
import { cocoImages } from '../integration/helpers/datasets';
import { tempDir } from '../integration/helpers/temp';

let servers: Serve[] = [];
let browser: Browser;
let context: BrowserContext;
const pages: Page[] = [];
const pageErrors: string[] = [];
/** Each page's requests to any server, with the Authorization header they carried. */
const requests: { page: number; url: string; authorization?: string; cookie?: string }[] = [];

async function makeDataset(name: string, color: string): Promise<string> {
  const root = path.join(tempDir('mome-e2e-two-'), name);
  const images = cocoImages(6);
  fs.mkdirSync(path.join(root, 'train2014'), { recursive: true });
  fs.mkdirSync(path.join(root, 'val2014'));
  fs.writeFileSync(path.join(root, 'dataset_coco.json'), JSON.stringify({ images, dataset: 'coco' }));
  const jpg = await sharp({ create: { width: 120, height: 90, channels: 3, background: color } })
    .jpeg()
    .toBuffer();
  for (const img of images) fs.writeFileSync(path.join(root, img.filepath!, img.filename), jpg);
  return root;
}

const token = (s: Serve) => new URL(s.url).searchParams.get('token')!;

/** A job run from the page, whose jobFinished event the page receives over its event stream. */
function finishedJobFromEvents(page: Page, folder: string): Promise<{ id: number; state: string }> {
  return page.evaluate(async (dir) => {
    type Api = {
      on(e: string, h: (p: unknown) => void): () => void;
      startFolderScan(a: { path: string }): Promise<{ id: number }>;
    };
    const api = (window as unknown as { mome: Api }).mome;
    const seen = new Map<number, { id: number; state: string }>();
    let wanted = -1;
    return new Promise<{ id: number; state: string }>((resolve) => {
      api.on('jobFinished', (j) => {
        const job = j as { id: number; state: string };
        seen.set(job.id, job);
        if (job.id === wanted) resolve(job);
      });
      void api.startFolderScan({ path: dir }).then((job) => {
        wanted = job.id;
        if (seen.has(wanted)) resolve(seen.get(wanted)!);
      });
    });
  }, folder);
}

/** The datasets table lists `name`, and Browse shows its thumbnails (served through the media ticket). */
async function browseShowsThumbnails(page: Page, name: string) {
  await page.keyboard.press('Alt+1');
  const row = page.getByTestId('dataset-table').getByRole('row').filter({ hasText: name });
  await row.waitFor();
  await row.getByRole('button', { name: 'Browse' }).click();
  await page.getByRole('heading', { level: 1, name: 'Browse' }).waitFor();
  await page.locator('.cell img.thumb').first().waitFor();
  await page.waitForFunction(
    () =>
      [...document.querySelectorAll('.cell img.thumb')].length > 0 &&
      [...document.querySelectorAll('.cell img.thumb')].every((i) => (i as HTMLImageElement).naturalWidth > 0),
    undefined,
    { timeout: 30_000 },
  );
  expect(await page.locator('.thumb.missing').count()).toBe(0);
}

beforeAll(async () => {
  servers = await Promise.all([startServe(), startServe()]);
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1300, height: 800 } });
  const roots = [await makeDataset('first-data', '#cc3333'), await makeDataset('second-data', '#3333cc')];
  for (const [i, s] of servers.entries()) {
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(`${i}: ${e.message}`));
    page.on('request', (r) =>
      requests.push({
        page: i,
        url: r.url(),
        authorization: r.headers().authorization,
        cookie: r.headers().cookie,
      }),
    );
    await page.goto(s.url);
    await page.getByTestId('status-mode').filter({ hasText: 'Browser mode' }).waitFor();
    // import through the page's own API client; its event stream reports the job's end
    const job = await page.evaluate(async (root) => {
      const api = (window as unknown as { mome: { startDatasetImport(a: { path: string }): Promise<{ id: number }> } })
        .mome;
      return api.startDatasetImport({ path: root });
    }, roots[i]);
    expect(job.id).toBeGreaterThan(0);
    pages.push(page);
  }
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await Promise.all(servers.map((s) => s.stop()));
});

describe('two instances in one browser', () => {
  it('run on two ports with different tokens', () => {
    expect(new URL(servers[0].url).port).not.toBe(new URL(servers[1].url).port);
    expect(token(servers[0])).not.toBe(token(servers[1]));
    for (const page of pages) expect(page.url()).not.toContain('token=');
  });

  it('both list their datasets and show thumbnails after the other was opened', async () => {
    await browseShowsThumbnails(pages[0], 'first-data');
    await browseShowsThumbnails(pages[1], 'second-data');
    // the first page again, after the second server's page has run
    await browseShowsThumbnails(pages[0], 'first-data');
    const listed = await Promise.all(
      pages.map((p) =>
        p.evaluate(async () => {
          const api = (window as unknown as { mome: { listDatasets(): Promise<{ name: string }[]> } }).mome;
          return (await api.listDatasets()).map((d) => d.name);
        }),
      ),
    );
    expect(listed).toEqual([['first-data'], ['second-data']]);
  });

  it('both receive their own events', async () => {
    const folder = tempDir('mome-e2e-scan-');
    fs.writeFileSync(path.join(folder, 'x.jpg'), 'x');
    for (const page of [pages[1], pages[0]]) {
      const job = await finishedJobFromEvents(page, folder);
      expect(job.state).toBe('succeeded');
    }
  });

  it('a reload keeps the page signed in (sessionStorage), still without the token in the address', async () => {
    await pages[0].reload();
    await pages[0].getByTestId('status-mode').filter({ hasText: 'Browser mode' }).waitFor();
    expect(pages[0].url()).not.toContain('token=');
    await browseShowsThumbnails(pages[0], 'first-data');
    const job = await finishedJobFromEvents(pages[0], tempDir('mome-e2e-scan-'));
    expect(job.state).toBe('succeeded');
  });

  it('sets no token cookie, and each page sends only its own token, only to its own server', async () => {
    const cookies = await context.cookies();
    expect(cookies.filter((c) => c.name.startsWith('mome_token'))).toEqual([]);
    expect(requests.some((r) => r.cookie?.includes('mome_token'))).toBe(false);
    for (const [i, s] of servers.entries()) {
      const mine = requests.filter((r) => r.page === i);
      expect(mine.every((r) => new URL(r.url).origin === s.baseUrl)).toBe(true);
      const api = mine.filter((r) => new URL(r.url).pathname.startsWith('/api/'));
      expect(api.length).toBeGreaterThan(3);
      expect(api.every((r) => r.authorization === `Bearer ${token(s)}`)).toBe(true);
      // images carry the media ticket, never the token
      const media = mine.filter((r) => new URL(r.url).pathname === '/media');
      expect(media.length).toBeGreaterThan(0);
      for (const r of media) {
        expect(new URL(r.url).searchParams.get('ticket')).toMatch(/^[0-9a-f]{48}$/);
        expect(r.url).not.toContain(token(s));
      }
    }
    expect(pageErrors).toEqual([]);
  });
});
