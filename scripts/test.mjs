// `npm test`: every suite — unit and integration (Vitest, real SQLite files), Python (unittest, real PyTorch),
// end-to-end (Playwright driving Debian's Chromium against `npm run serve`). Runs all, then fails if any failed.
import path from 'node:path';
import { findTorchPython, root, run, say } from './lib.mjs';

const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const python = findTorchPython();
const suites = [
  ['unit + integration', () => run(bin('vitest'), ['run'])],
  [
    'python',
    () =>
      run(
        python ?? 'python3',
        [
          '-m',
          'unittest',
          'discover',
          '-s',
          'model-runtime/python/tests',
          '-t',
          'model-runtime/python',
          '-p',
          'test_*.py',
        ],
        {
          env: { ...process.env, PYTHONPATH: path.join(root, 'model-runtime', 'python') },
        },
      ),
  ],
  ['renderer build', () => run(process.execPath, [path.join(root, 'scripts', 'build-renderer.mjs')])],
  ['end-to-end', () => run(bin('vitest'), ['run', '--config', 'vitest.e2e.config.ts'])],
];

const failed = [];
for (const [name, fn] of suites) {
  say(`— ${name}`);
  if (fn() !== 0) failed.push(name);
}
say(failed.length ? `failed suites: ${failed.join(', ')}` : 'all suites passed');
console.log(`suites: ${suites.length - failed.length} passed, ${failed.length} failed`);
process.exit(failed.length ? 1 : 0);
