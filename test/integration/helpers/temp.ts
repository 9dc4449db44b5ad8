import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const made: string[] = [];
process.once('exit', () => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh temp folder, removed when the test process exits. */
export function tempDir(prefix = 'mome-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** A folder of `dirs` sub-folders with `perDir` small files each (half of them named as images). */
export function makeTree(root: string, dirs: number, perDir: number): number {
  for (let d = 0; d < dirs; d++) {
    const dir = path.join(root, `d${String(d).padStart(4, '0')}`);
    fs.mkdirSync(dir, { recursive: true });
    for (let f = 0; f < perDir; f++) fs.writeFileSync(path.join(dir, f % 2 ? `f${f}.txt` : `img${f}.jpg`), 'x');
  }
  return dirs * perDir;
}
