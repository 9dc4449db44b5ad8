// Builds the renderer into dist/renderer when its sources are newer than the build (quick when current).
import fs from 'node:fs';
import path from 'node:path';
import { newestMtime, root, run, say } from './lib.mjs';

const out = path.join(root, 'dist', 'renderer', 'index.html');
const sources = Math.max(
  newestMtime(path.join(root, 'renderer')),
  newestMtime(path.join(root, 'electron', 'api')),
  newestMtime(path.join(root, 'vite.renderer.config.ts')),
);
if (fs.existsSync(out) && fs.statSync(out).mtimeMs >= sources) process.exit(0);
say('Building the renderer…');
process.exit(
  run(path.join(root, 'node_modules', '.bin', 'vite'), [
    'build',
    '--config',
    'vite.renderer.config.ts',
    '--logLevel',
    'warn',
  ]),
);
