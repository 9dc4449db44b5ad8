// Starts the real browser-mode server (`tsx electron/bridge/serve.ts`, as `npm run serve` does) with a temp
// MOME_HOME, and launches Debian's Chromium through playwright-core.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface Serve {
  url: string;
  baseUrl: string;
  home: string;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** `env`: variables for the server on top of this process's; an undefined value removes the variable. */
export async function startServe(
  opts: { home?: string; samples?: boolean; env?: Record<string, string | undefined> } = {},
): Promise<Serve> {
  const home = opts.home ?? fs.mkdtempSync(path.join(os.tmpdir(), 'mome-e2e-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    MOME_HOME: home,
    MOME_NO_OPEN: '1',
    ...(opts.samples ? {} : { MOME_NO_SAMPLES: '1' }),
    ...opts.env,
  };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  // node --import tsx (not the tsx wrapper) so that signals reach the server process itself
  const child = spawn(process.execPath, ['--import', 'tsx', 'electron/bridge/serve.ts', '--no-open'], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not print its address in 60 s:\n${out}`)), 60_000);
    const check = () => {
      const m = /Open: (http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}:\n${out}`));
    });
  });
  return {
    url,
    baseUrl: new URL(url).origin,
    home,
    child,
    output: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export const CHROMIUM = process.env.MOME_CHROMIUM ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}: apt-get install chromium (or set MOME_CHROMIUM).`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export const screenshotDir = path.join(repoRoot, 'test-results', 'screenshots');

/** Runs an API call in the page (window.mome), waits for the job it starts, and returns the job's result. */
export async function jobInPage(page: Page, method: string, args: Record<string, unknown>): Promise<any> {
  return page.evaluate(
    async ([m, a]) => {
      const api = (window as any).mome;
      let j = await api[m as string](a);
      while (j.state === 'queued' || j.state === 'running') {
        await new Promise((r) => setTimeout(r, 200));
        j = await api.getJob({ id: j.id });
      }
      if (j.state !== 'succeeded') throw new Error(`${m}: ${j.state} ${j.error}`);
      return j.result;
    },
    [method, args] as const,
  );
}
