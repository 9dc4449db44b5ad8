// `npm run lint`'s Python half: Ruff (its WebAssembly build from the npm registry, so lint needs no Python tool
// and no apt package) over every .py file of the repository. Prints `file:line:col: CODE message` per finding
// and exits 1 when there is any.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { root } from './lib.mjs';

const { Workspace, PositionEncoding } = createRequire(import.meta.url)('@astral-sh/ruff-wasm-nodejs');

/** Ruff's settings (as in a ruff.toml): Pyflakes (F) and pycodestyle errors and warnings (E, W); the code's
 * lines run to 120 characters. E741 (a variable named l) is off: `l, r` are NLVR2's left and right images. */
export const SETTINGS = {
  'line-length': 120,
  'target-version': 'py310',
  lint: { select: ['F', 'E', 'W'], ignore: ['E741'] },
};
/** Ruff's per-file-ignores, which its WebAssembly build cannot apply itself (it checks contents, not paths):
 * path prefix -> codes. The synthetic data, the tiny model's training and their tests are being rewritten (new
 * captions, a new training plan); their long lines and one lambda wait for that rewrite rather than conflict
 * with it. */
export const PER_FILE_IGNORES = {
  'model-runtime/python/mome/synth/': ['E501'],
  'model-runtime/python/tests/test_synth_': ['E501', 'E731'],
  'model-runtime/python/tests/test_train_tiny.py': ['E501'],
};
/** The folders that hold Python: the package and its tests, the benches' and tests' helpers, tools. */
const ROOTS = ['model-runtime/python', 'bench', 'test', 'tools'];
const SKIP = new Set(['node_modules', '__pycache__', 'fixtures']);

function pythonFiles(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || SKIP.has(entry.name)) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...pythonFiles(full));
    else if (entry.isFile() && entry.name.endsWith('.py')) out.push(full);
  }
  return out;
}

const workspace = new Workspace(SETTINGS, PositionEncoding.Utf16);
const files = ROOTS.map((r) => path.join(root, r))
  .filter((d) => fs.existsSync(d))
  .flatMap(pythonFiles)
  .sort();
let findings = 0;
for (const file of files) {
  const rel = path.relative(root, file).split(path.sep).join('/');
  const ignored = Object.entries(PER_FILE_IGNORES).flatMap(([prefix, codes]) => (rel.startsWith(prefix) ? codes : []));
  for (const d of workspace.check(fs.readFileSync(file, 'utf8'))) {
    if (ignored.includes(d.code)) continue;
    const { row, column } = d.start_location;
    console.log(`${rel}:${row}:${column}: ${d.code ?? 'syntax'} ${d.message}`);
    findings++;
  }
}
if (findings) {
  console.log(`ruff ${Workspace.version()}: ${findings} finding(s) in ${files.length} Python files`);
  process.exit(1);
}
console.log(`ruff ${Workspace.version()}: ${files.length} Python files, no findings`);
