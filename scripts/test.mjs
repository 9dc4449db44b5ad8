// `npm test`: every suite — unit and integration (Vitest, real SQLite files), Python (unittest, real PyTorch),
// end-to-end (Playwright driving Debian's Chromium against `npm run serve`). Runs all, then fails if any failed.
// PyTorch on two interpreters: everything runs on the first (MOME_PYTHON, else the torch 2.x test venv that setup
// makes), then the Python suite and the integration tests that spawn Python for training, conversion and export
// once more on each other one (Debian's /usr/bin/python3 with torch 1.13).
import path from 'node:path';
import { pythonTestEnv, root, run, say, testInterpreters } from './lib.mjs';

const bin = (name) => path.join(root, 'node_modules', '.bin', name);
/** The integration tests whose work is Python's: fine-tune (trainer), model import (convert), export and parity. */
const PYTHON_HEAVY = ['finetune', 'models', 'eval-cli', 'onnx-parity'].map((n) => `test/integration/${n}.test.ts`);

const interpreters = testInterpreters();
const chosen = process.env.MOME_PYTHON;
if (chosen && interpreters[0]?.python !== chosen) {
  // as before: the tests run with it and fail, saying so, rather than quietly on another interpreter
  interpreters.unshift({
    python: chosen,
    version: '?',
    torch: null,
    label: `${chosen} (MOME_PYTHON; cannot import torch)`,
  });
}
if (interpreters.length === 0) {
  interpreters.push({ python: 'python3', version: '?', torch: null, label: 'python3 (no interpreter imports torch)' });
}
say(
  `Python interpreters: ${interpreters.map((i, n) => `${n === 0 ? 'all suites' : 'Python suites'} on ${i.label}`).join('; ')}`,
);

const pythonSuite = (env) =>
  run(
    env.MOME_PYTHON,
    ['-m', 'unittest', 'discover', '-s', 'model-runtime/python/tests', '-t', 'model-runtime/python', '-p', 'test_*.py'],
    { env: { ...env, PYTHONPATH: path.join(root, 'model-runtime', 'python') } },
  );

const [first, ...others] = interpreters;
const firstEnv = pythonTestEnv(first.python);
const suites = [
  ['unit + integration', first, () => run(bin('vitest'), ['run'], { env: firstEnv })],
  ['python', first, () => pythonSuite(firstEnv)],
  ...others.flatMap((other) => {
    const env = pythonTestEnv(other.python);
    return [
      ['python', other, () => pythonSuite(env)],
      ['integration (Python-heavy)', other, () => run(bin('vitest'), ['run', ...PYTHON_HEAVY], { env })],
    ];
  }),
  ['renderer build', null, () => run(process.execPath, [path.join(root, 'scripts', 'build-renderer.mjs')])],
  ['end-to-end', first, () => run(bin('vitest'), ['run', '--config', 'vitest.e2e.config.ts'], { env: firstEnv })],
];

const results = [];
for (const [name, interpreter, fn] of suites) {
  const title = interpreter ? `${name} — ${interpreter.label}` : name;
  say(`— ${title}`);
  const started = Date.now();
  const ok = fn() === 0;
  results.push({ title, ok, seconds: Math.round((Date.now() - started) / 1000) });
}

say('results:');
for (const r of results) say(`  ${r.ok ? 'passed' : 'FAILED'}  ${r.title} (${r.seconds} s)`);
const torches = interpreters.map((i) => i.torch).filter(Boolean);
if (!torches.some((t) => !t.startsWith('1.'))) {
  say(
    'NOTE: no PyTorch 2.x was tested: the test venv .venv-torch2 is missing (`node scripts/setup.mjs --tests` ' +
      'makes it and says why it could not).',
  );
}
if (!torches.some((t) => t.startsWith('1.'))) {
  say("NOTE: no PyTorch 1.13 was tested: Debian's python3-torch is not installed at /usr/bin/python3.");
}
const failed = results.filter((r) => !r.ok);
say(failed.length ? `failed suites: ${failed.map((r) => r.title).join('; ')}` : 'all suites passed');
console.log(`suites: ${results.length - failed.length} passed, ${failed.length} failed`);
process.exit(failed.length ? 1 : 0);
