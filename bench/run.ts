// `npm run bench -- <name>`: runs one benchmark (or all) and prints JSON; also written to test-results/bench/.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchImport } from './import';
import { benchScore } from './score';
import { benchBrowse } from './browse';
import { benchEncode } from './encode';
import { benchEvalCache } from './eval-cache';
import { benchNlvr2 } from './nlvr2';
import { benchStats } from './stats';
import { benchTorch } from './torch';
import { benchResponsiveness } from './responsiveness';
import { benchSearch } from './search';

const benchmarks: Record<string, () => Promise<Record<string, unknown>>> = {
  import: benchImport,
  score: benchScore,
  browse: benchBrowse,
  encode: benchEncode,
  'eval-cache': benchEvalCache,
  nlvr2: benchNlvr2,
  stats: benchStats,
  torch: benchTorch,
  responsiveness: benchResponsiveness,
  search: benchSearch,
};

const names = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const selected = names.length ? names : Object.keys(benchmarks);
const unknown = selected.filter((n) => !benchmarks[n]);
if (unknown.length) {
  console.error(`unknown benchmark ${unknown.join(', ')}; available: ${Object.keys(benchmarks).join(', ')}`);
  process.exit(2);
}
const out = path.resolve(import.meta.dirname, '..', 'test-results', 'bench');
fs.mkdirSync(out, { recursive: true });
for (const name of selected) {
  const result = {
    ...(await benchmarks[name]()),
    machine: { cpus: os.cpus().length, node: process.version },
    at: new Date().toISOString(),
  };
  fs.writeFileSync(path.join(out, `${name}.json`), JSON.stringify(result, null, 2));
  console.log(JSON.stringify(result, null, 2));
}
