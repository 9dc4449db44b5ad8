// The npm packages the bundled main process loads at run time: the native modules kept outside the Vite
// bundle, and everything they require. Electron Forge's Vite plugin packages only .vite/ by default, so the
// packaged app (forge.config.ts) and the shipped-layout test copy exactly this set of node_modules.
import fs from 'node:fs';
import path from 'node:path';

/** Kept outside the bundle: native code, loaded from node_modules (rebuilt for Electron where needed). */
export const NATIVE_MODULES = ['better-sqlite3', 'sharp', 'onnxruntime-node'];

/** The folder of package `name` as Node resolves it from `fromDir` (nearest node_modules upward), or null. */
function resolvePackageDir(name, fromDir, root) {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (dir === root || path.dirname(dir) === dir) return null;
  }
}

/**
 * The package folders (relative to `root`, e.g. "node_modules/@img/sharp-linux-x64") that `names` need at run
 * time: each package, its dependencies and the optional dependencies installed on this machine, transitively.
 */
export function runtimePackageDirs(root, names = NATIVE_MODULES) {
  const found = new Set();
  const queue = names.map((name) => ({ name, from: root, optional: false }));
  while (queue.length) {
    const { name, from, optional } = queue.shift();
    const dir = resolvePackageDir(name, from, root);
    if (!dir) {
      if (optional) continue;
      throw new Error(
        `${name} (needed by ${path.relative(root, from) || 'the app'}) is not installed: run npm install`,
      );
    }
    const rel = path.relative(root, dir).split(path.sep).join('/');
    if (found.has(rel)) continue;
    found.add(rel);
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    for (const dep of Object.keys(pkg.dependencies ?? {})) queue.push({ name: dep, from: dir, optional: false });
    for (const dep of Object.keys(pkg.optionalDependencies ?? {})) queue.push({ name: dep, from: dir, optional: true });
  }
  return [...found].sort();
}
