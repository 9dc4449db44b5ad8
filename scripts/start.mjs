// `npm start`: always opens MoME Studio. The desktop app (Electron Forge) when the Electron binary is installed and
// there is a display; otherwise one line says why, and browser mode starts in this same process tree (the renderer
// build, then electron/bridge/serve.ts, which prints the address and opens the default browser when it can).
// Arguments after `npm start --` go to browser mode (--port N, --home DIR, --no-open).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { root, run, say } from './lib.mjs';

/** The Electron executable that node_modules/electron would launch, or null when it was not downloaded. */
export function electronBinary(dir = root, env = process.env) {
  const pkg = path.join(dir, 'node_modules', 'electron');
  const pathFile = path.join(pkg, 'path.txt');
  if (!fs.existsSync(pathFile)) return null;
  const exe = fs.readFileSync(pathFile, 'utf8').trim();
  const bin = path.join(env.ELECTRON_OVERRIDE_DIST_PATH || path.join(pkg, 'dist'), exe);
  return fs.existsSync(bin) ? bin : null;
}

/** macOS and Windows always have one; Linux needs an X11 or Wayland display (none over plain SSH, or headless). */
export function hasDisplay(platform = process.platform, env = process.env) {
  return platform !== 'linux' || Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);
}

/**
 * Desktop or browser mode. binary: the Electron executable's path (or null); returns { mode, reason } where reason
 * is the one line that says why browser mode (null for the desktop).
 */
export function chooseMode({ binary, platform = process.platform, env = process.env }) {
  if (!hasDisplay(platform, env)) {
    return {
      mode: 'browser',
      reason:
        'No display (neither DISPLAY nor WAYLAND_DISPLAY is set: SSH or a headless machine) — starting MoME Studio in browser mode.',
    };
  }
  if (!binary) {
    return {
      mode: 'browser',
      reason:
        'The Electron binary is not installed (npm could not download it; with internet: `npm rebuild electron`) — starting MoME Studio in browser mode.',
    };
  }
  return { mode: 'desktop', reason: null };
}

function buildRenderer() {
  return run(process.execPath, [path.join(root, 'scripts', 'build-renderer.mjs')]);
}

/** Browser mode in a child process with the terminal's stdio; SIGINT/SIGTERM forwarded; resolves to its exit code. */
function serve(args) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'electron', 'bridge', 'serve.ts'), ...args],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
  const forward = (signal) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((resolve) => {
    child.on('error', (e) => {
      console.error(`Browser mode could not start: ${e.message}`);
      resolve(1);
    });
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      // Killed by a signal: the shell's convention, 128 + the signal's number.
      resolve(code ?? 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
    });
  });
}

async function main() {
  const args = process.argv.slice(2);
  const { mode, reason } = chooseMode({ binary: electronBinary() });
  if (mode === 'desktop') {
    if (buildRenderer() !== 0) return 1;
    const status = run(path.join(root, 'node_modules', '.bin', 'electron-forge'), ['start']);
    // Forge rebuilt better-sqlite3 for Electron; the next `npm test`/`npm run serve` rebuilds it for Node (setup.mjs).
    return status;
  }
  say(reason);
  if (buildRenderer() !== 0) return 1;
  return serve(args);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  process.exit(await main());
}
