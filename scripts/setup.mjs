// `npm start` / `npm test` / `npm run serve` begin here: install what is missing, quickly skip what is not.
// - npm dependencies (npm install when node_modules is missing or older than package-lock.json); where the
//   Electron binary or the ONNX Runtime CUDA provider cannot be downloaded (a quick probe of their hosts, and a
//   retry when npm fails anyway), install without them and say so (lib.mjs installDependencies).
// - better-sqlite3 built for this Node (an Electron rebuild replaces it; rebuild back when needed).
// - Debian packages for Python/PyTorch and Chromium (tests only): installed when running as root with apt,
//   otherwise the exact command is printed.
// - The PyTorch 2.x test venv, .venv-torch2 (tests only; lib.mjs ensureTestVenv): made with pip when missing or
//   when its requirement set changed; without PyPI or the torch wheel it says so and the tests run on Debian's
//   torch 1.13 only.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ensureTestVenv, findTorchPython, installDependencies, root, run, say } from './lib.mjs';

const forTests = process.argv.includes('--tests');

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`MoME Studio needs Node 20.19 or newer (this is ${process.versions.node}).`);
  process.exit(1);
}

function dependenciesCurrent() {
  const hidden = path.join(root, 'node_modules', '.package-lock.json');
  const lock = path.join(root, 'package-lock.json');
  if (!fs.existsSync(hidden)) return false;
  if (fs.statSync(hidden).mtimeMs + 1000 < fs.statSync(lock).mtimeMs) return false;
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const names = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})];
  return names.every((n) => fs.existsSync(path.join(root, 'node_modules', n, 'package.json')));
}

if (!dependenciesCurrent()) {
  // A quick probe first (a few seconds), so that a machine without internet beyond the npm registry does not wait
  // for the Electron / CUDA-provider downloads to fail; and a retry without them when npm fails anyway.
  const { status } = await installDependencies();
  if (status !== 0) {
    console.error('npm install failed: see the messages above.');
    process.exit(status);
  }
}

const sqliteOk =
  spawnSync(process.execPath, ['-e', "new (require('better-sqlite3'))(':memory:').close()"], {
    cwd: root,
    stdio: 'ignore',
  }).status === 0;
if (!sqliteOk) {
  say('Rebuilding better-sqlite3 for this Node…');
  if (run('npm', ['rebuild', 'better-sqlite3']) !== 0) process.exit(1);
}

if (forTests) {
  const venv = ensureTestVenv();
  const missing = [];
  if (!fs.existsSync(process.env.MOME_CHROMIUM ?? '/usr/bin/chromium')) missing.push('chromium');
  // Debian's torch: needed when there is no other (the venv counts), and then with python3-onnx
  const torchPython = findTorchPython();
  if (!torchPython && !venv.python)
    missing.push('python3-torch', 'libopenblas0-pthread', 'python3-numpy', 'python3-pil');
  if (torchPython || !venv.python) {
    const onnx = spawnSync(torchPython ?? 'python3', ['-c', 'import onnx'], { stdio: 'ignore' }).status === 0;
    if (!onnx) missing.push('python3-onnx');
  }
  if (missing.length > 0) {
    const isRoot = process.getuid?.() === 0;
    const hasApt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
    if (isRoot && hasApt) {
      say(`Installing Debian packages: ${missing.join(' ')}`);
      run('apt-get', ['update', '-qq']);
      if (
        run('apt-get', ['install', '-y', '-qq', ...missing], {
          env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
        }) !== 0
      ) {
        process.exit(1);
      }
    } else {
      console.error(
        `The tests need Debian packages that are missing. Install them with:\n  sudo apt-get install -y ${missing.join(' ')}`,
      );
      process.exit(1);
    }
  }
}
