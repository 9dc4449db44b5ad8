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
import { benchCorrections } from './corrections';
import { benchSnapshots } from './snapshots';
import { benchMillion } from './million';
import { benchMap } from './map';
import { benchReview } from './review';
import { benchEvalMemory } from './eval-memory';

const benchmarks: Record<string, (args: string[]) => Promise<Record<string, unknown>>> = {
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
  corrections: benchCorrections,
  snapshots: benchSnapshots,
  million: benchMillion,
  map: benchMap,
  review: benchReview,
  'eval-memory': benchEvalMemory,
};

// options (`--seed 3`) go to the benchmarks; the other words name them
const argv = process.argv.slice(2);
const names = argv.filter((a, i) => !a.startsWith('-') && !argv[i - 1]?.startsWith('--'));
// the corrections bench runs fine-tunes for many minutes: only when named
const selected = names.length ? names : Object.keys(benchmarks).filter((n) => n !== 'corrections');
// the million bench imports 5,000,000 captions for minutes: only when named
if (!names.length) selected.splice(selected.indexOf('million'), 1);
// the eval-memory bench writes a million cached embeddings and scores for minutes: only when named
if (!names.length) selected.splice(selected.indexOf('eval-memory'), 1);
const unknown = selected.filter((n) => !benchmarks[n]);
if (unknown.length) {
  console.error(`unknown benchmark ${unknown.join(', ')}; available: ${Object.keys(benchmarks).join(', ')}`);
  process.exit(2);
}
const out = path.resolve(import.meta.dirname, '..', 'test-results', 'bench');
fs.mkdirSync(out, { recursive: true });
for (const name of selected) {
  const result = {
    ...(await benchmarks[name](argv)),
    machine: { cpus: os.cpus().length, node: process.version },
    at: new Date().toISOString(),
  };
  fs.writeFileSync(path.join(out, `${name}.json`), JSON.stringify(result, null, 2));
  console.log(JSON.stringify(result, null, 2));
}
