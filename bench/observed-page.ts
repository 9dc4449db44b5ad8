// A Chromium page on browser mode's Datasets view that records the browser's long tasks and page errors, for the
// benches that measure the UI (browse, million).
import type { Browser, Page } from 'playwright-core';

export interface ObservedPage {
  page: Page;
  pageErrors: string[];
  /** The long tasks (ms) recorded since the last call. */
  longTasks(): Promise<number[]>;
}

export async function observedPage(browser: Browser, url: string): Promise<ObservedPage> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(url);
  await page.getByTestId('dataset-table').waitFor();
  await page.evaluate(() => {
    (window as any).__longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) (window as any).__longTasks.push(e.duration);
    }).observe({ type: 'longtask', buffered: false });
  });
  return { page, pageErrors, longTasks: () => page.evaluate(() => (window as any).__longTasks.splice(0)) };
}
