// `npm start`: the desktop app. Where the Electron binary is missing (it is downloaded at install time and
// cannot be here without internet), say so in one line and point to browser mode.
import fs from 'node:fs';
import path from 'node:path';
import { root, run } from './lib.mjs';

function electronBinary() {
  const pathFile = path.join(root, 'node_modules', 'electron', 'path.txt');
  if (!fs.existsSync(pathFile)) return null;
  const bin = path.join(root, 'node_modules', 'electron', 'dist', fs.readFileSync(pathFile, 'utf8').trim());
  return fs.existsSync(bin) ? bin : null;
}

if (!electronBinary()) {
  console.error(
    'The Electron binary is not installed (npm could not download it; run `npm rebuild electron` with internet) — use `npm run serve` to open MoME Studio in your browser.',
  );
  process.exit(1);
}
if (run(process.execPath, [path.join(root, 'scripts', 'build-renderer.mjs')]) !== 0) process.exit(1);
const status = run(path.join(root, 'node_modules', '.bin', 'electron-forge'), ['start']);
// Forge rebuilt better-sqlite3 for Electron; the next `npm test`/`npm run serve` rebuilds it for Node (setup.mjs).
process.exit(status);
