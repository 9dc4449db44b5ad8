// The Python interpreter section of the Models view, in the real renderer against the browser-mode server: the
// interpreters found on this machine with their torch, a refused choice with what it lacks, a choice, and back.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../integration/helpers/temp';
import { launchChromium, screenshotDir, startServe, type Serve } from './harness';

const SYSTEM = '/usr/bin/python3'; // Debian's python3-torch (1.13)
const PYENV_SHIM = '/root/.pyenv/shims/python3'; // a Python without torch, where pyenv is installed
let serve: Serve;
let browser: Browser;
let page: Page;
let torchless: string;

beforeAll(async () => {
  if (fs.existsSync(PYENV_SHIM)) torchless = PYENV_SHIM;
  else {
    const dir = path.join(tempDir('mome-e2e-venv-'), 'bare');
    execFileSync(SYSTEM, ['-m', 'venv', '--without-pip', dir], { stdio: 'ignore' });
    torchless = path.join(dir, 'bin', 'python3');
  }
  // the app's own choice is under test: no MOME_PYTHON (the test run sets it to pick each pass's interpreter)
  serve = await startServe({ env: { MOME_PYTHON: undefined } });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(serve.url);
});
afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

describe('python interpreter', () => {
  it('lists /usr/bin/python3 with its torch version, and marks the one in use', async () => {
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('button', { name: /^Models/ })
      .click();
    const section = page.getByTestId('python-interpreters');
    const system = section.locator(`tr[data-python="${SYSTEM}"]`);
    await system.waitFor({ timeout: 90_000 });
    expect(await system.getByTestId('python-torch').textContent()).toMatch(/^1\.13\./);
    expect(await system.textContent()).toContain('ready');
    // the automatic search's pick (here the test venv's python3, first on PATH, or /usr/bin/python3)
    expect(await section.getByTestId('python-in-use').textContent()).toMatch(/run with \/\S+.*found automatically/);
    expect(await section.locator('tr[data-python] strong', { hasText: 'in use' }).count()).toBe(1);
    // one without torch says so in a few words, and cannot be chosen
    const bare = section.locator(`tr[data-python="${torchless}"]`);
    if (torchless === PYENV_SHIM) {
      expect(await bare.getByTestId('python-status').textContent()).toMatch(/^cannot import torch/);
      expect(await bare.getByTestId('python-status').getAttribute('title')).toContain('pip install torch');
      expect(await bare.getByRole('button', { name: 'Use' }).isDisabled()).toBe(true);
    }
    fs.mkdirSync(screenshotDir, { recursive: true });
    await section.screenshot({ path: path.join(screenshotDir, 'python-interpreters.png') });
  });

  it('refuses an interpreter without torch, saying what it lacks', async () => {
    const section = page.getByTestId('python-interpreters');
    await section.getByLabel('Python interpreter path').fill(torchless);
    await section.getByRole('button', { name: 'Use this interpreter' }).click();
    const error = section.getByTestId('python-error');
    await error.waitFor({ timeout: 30_000 });
    expect(await error.textContent()).toContain(`\`${torchless}\` cannot import torch`);
    expect(await error.textContent()).toContain('pip install torch');
    expect(await section.getByRole('button', { name: 'Back to automatic' }).isDisabled()).toBe(true);
  });

  it('uses the chosen one, remembers it across a reload, and goes back to automatic', async () => {
    const section = page.getByTestId('python-interpreters');
    await section.locator(`tr[data-python="${SYSTEM}"]`).waitFor();
    await section.getByLabel('Python interpreter path').fill(SYSTEM);
    await section.getByRole('button', { name: 'Use this interpreter' }).click();
    await section.getByTestId('python-in-use').filter({ hasText: 'your choice' }).waitFor({ timeout: 30_000 });
    expect(await section.getByTestId('python-in-use').textContent()).toContain(SYSTEM);
    expect(await section.getByTestId('python-error').count()).toBe(0);
    await section.locator(`tr[data-python="${SYSTEM}"] strong`, { hasText: 'in use' }).waitFor();

    await page.reload();
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('button', { name: /^Models/ })
      .click();
    await page.getByTestId('python-in-use').filter({ hasText: 'your choice' }).waitFor({ timeout: 90_000 });
    await page.getByRole('button', { name: 'Back to automatic' }).click();
    await page.getByTestId('python-in-use').filter({ hasText: 'found automatically' }).waitFor({ timeout: 30_000 });
    expect(await page.getByRole('button', { name: 'Back to automatic' }).isDisabled()).toBe(true);
  });
});
