// `npm run bench -- import`: import the full COCO-Karpathy shape and compare with a bare JSON.parse of the
// same file measured in the same run.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeKarpathyScale } from './karpathy-scale';

export async function benchImport(): Promise<Record<string, unknown>> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mome-bench-coco-'));
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mome-bench-home-'));
  const t0 = performance.now();
  const shape = writeKarpathyScale(root);
  const generateSeconds = (performance.now() - t0) / 1000;
  const file = path.join(root, 'dataset_coco.json');
  const node = (script: string, ...args: string[]) =>
    JSON.parse(
      execFileSync(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, script), ...args], {
        encoding: 'utf8',
        maxBuffer: 1 << 24,
      }),
    );
  const baseline = node('parse-child.ts', file);
  const imported = node('import-child.ts', home, root);
  const result = {
    benchmark: 'import',
    annotationMB: fs.statSync(file).size / 1e6,
    ...shape,
    generateSeconds,
    import: imported,
    baselineJsonParse: baseline,
    ratioSecondsVsJsonParse: imported.seconds / baseline.seconds,
    goals: { seconds: 20, peakRssMB: 1024 },
  };
  fs.rmSync(root, { recursive: true, force: true });
  fs.rmSync(home, { recursive: true, force: true });
  return result;
}
