// `npm start` always opens the app: the desktop when it can, else browser mode with one line that says why.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { root } from '../../scripts/lib.mjs';
import { chooseMode, electronBinary, hasDisplay } from '../../scripts/start.mjs';

describe('chooseMode', () => {
  const bin = '/x/node_modules/electron/dist/electron';

  it('opens the desktop app with the binary and a display', () => {
    expect(chooseMode({ binary: bin, platform: 'linux', env: { DISPLAY: ':0' } })).toEqual({
      mode: 'desktop',
      reason: null,
    });
    expect(chooseMode({ binary: bin, platform: 'linux', env: { WAYLAND_DISPLAY: 'wayland-0' } }).mode).toBe('desktop');
  });

  it('macOS and Windows always have a display', () => {
    for (const platform of ['darwin', 'win32']) {
      expect(hasDisplay(platform, {})).toBe(true);
      expect(chooseMode({ binary: bin, platform, env: {} }).mode).toBe('desktop');
    }
  });

  it('starts browser mode without the Electron binary, and says so', () => {
    for (const [platform, env] of [
      ['linux', { DISPLAY: ':0' }],
      ['darwin', {}],
      ['win32', {}],
    ] as const) {
      const { mode, reason } = chooseMode({ binary: null, platform, env });
      expect(mode).toBe('browser');
      expect(reason).toMatch(/^The Electron binary is not installed .*npm rebuild electron.* browser mode\.$/);
    }
  });

  it('starts browser mode on Linux without DISPLAY or WAYLAND_DISPLAY, and says so', () => {
    for (const binary of [bin, null]) {
      const { mode, reason } = chooseMode({ binary, platform: 'linux', env: { DISPLAY: '' } });
      expect(mode).toBe('browser');
      expect(reason).toMatch(/^No display \(.*\) — starting MoME Studio in browser mode\.$/);
      expect(reason).not.toContain('\n');
    }
  });

  it('finds the binary only when path.txt and the executable exist', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mome-electron-'));
    try {
      const pkg = path.join(dir, 'node_modules', 'electron');
      fs.mkdirSync(path.join(pkg, 'dist'), { recursive: true });
      expect(electronBinary(dir, {})).toBeNull();
      fs.writeFileSync(path.join(pkg, 'path.txt'), 'electron');
      expect(electronBinary(dir, {})).toBeNull();
      fs.writeFileSync(path.join(pkg, 'dist', 'electron'), '');
      expect(electronBinary(dir, {})).toBe(path.join(pkg, 'dist', 'electron'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('npm start without a display', () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mome-start-'));
  afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

  it('starts browser mode by itself, serves the app, and stops on SIGTERM', { timeout: 180_000 }, async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, MOME_NO_OPEN: '1', MOME_NO_SAMPLES: '1' };
    delete env.DISPLAY;
    delete env.WAYLAND_DISPLAY;
    const child = spawn(process.execPath, ['scripts/start.mjs', '--port', '0', '--home', home], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d) => {
          out += d;
          const m = /Open: (http:\/\/127\.0\.0\.1:\d+\/\S*)/.exec(out);
          if (m) resolve(m[1]);
        });
        void exited.then(({ code }) => reject(new Error(`start.mjs exited (${code}) before serving:\n${out}`)));
      });
      expect(out).toMatch(/^\[mome\] No display \(.*\) — starting MoME Studio in browser mode\.$/m);
      expect(url).toMatch(/[?&]token=\w+/);
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/text\/html/);
      expect(await res.text()).toMatch(/<html/i);
    } finally {
      child.kill('SIGTERM');
    }
    const { code } = await Promise.race([
      exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no exit 15 s after SIGTERM')), 15_000)),
    ]);
    expect(code).toBe(0);
  });
});
