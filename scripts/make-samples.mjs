// Regenerates the sample datasets shipped in assets/datasets/ (deterministic: fixed sizes, seeds and noise
// rates). `node scripts/make-samples.mjs` — needs a Python with numpy and PIL (torch not required).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { root } from './lib.mjs';

const SAMPLES = [
  { kind: 'coco', size: 500, seed: 11, noise: 0.03 },
  { kind: 'flickr30k', size: 300, seed: 12, noise: 0.03 },
  { kind: 'nlvr2', size: 300, seed: 13, noise: 0.05 },
];
const python = process.env.MOME_PYTHON ?? 'python3';
for (const s of SAMPLES) {
  const out = path.join(root, 'assets', 'datasets', `${s.kind}-sample`);
  fs.rmSync(out, { recursive: true, force: true });
  const r = spawnSync(
    python,
    [
      '-m',
      'mome',
      'synth',
      '--out',
      out,
      '--kind',
      s.kind,
      '--size',
      String(s.size),
      '--seed',
      String(s.seed),
      '--noise',
      String(s.noise),
    ],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, PYTHONPATH: path.join(root, 'model-runtime', 'python') },
    },
  );
  if (r.status !== 0) process.exit(r.status ?? 1);
  console.log(`${s.kind}-sample: ${s.size} ${s.kind === 'nlvr2' ? 'examples' : 'images'}, noise ${s.noise}`);
}
