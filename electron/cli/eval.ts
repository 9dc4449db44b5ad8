// `mome eval retrieval|nlvr2 --model DIR --dataset DIR --split test --json OUT [--home DIR] [--device auto|cpu|cuda]
//  [--k 10] [--rerank K] [--resamples 1000] [--seed 0]`
// Imports the dataset folder if it is not imported yet, runs the evaluation as the app does, prints the
// metrics and writes {"metrics", "ci95", "provider", "seconds", "mistakes": [...]} to OUT; ci95 holds each
// metric's 95% bootstrap interval over queries ({"tr_r1": [lo, hi], …}; --resamples, --seed). `--split all` evaluates
// every split together (the label-error ranking of the whole dataset); `--rerank K` re-ranks the top K with ITM.
import fs from 'node:fs';
import path from 'node:path';
import { createBackend } from '../backend/index';
import { consoleContext } from '../jobs/console-context';
import { ALL_SPLITS, runEvaluation } from '../eval/run-eval';
import { getEvalRun } from '../eval/repository';
import { runIntervals } from '../eval/stats';
import { defaultHome } from '../store/home';
import { datasetAt } from './dataset-at';
import { optionPairs } from './options';

const USAGE =
  'usage: mome eval retrieval|nlvr2 --model DIR --dataset DIR [--split test] [--json OUT] [--home DIR] [--device auto|cpu|cuda] [--k 10] [--rerank K] [--resamples 1000] [--seed 0]\n  --split all: every split together; --resamples, --seed: the bootstrap of the 95% intervals (ci95)';

export async function evalCommand(argv: string[]): Promise<number> {
  const [task, ...rest] = argv;
  if (task !== 'retrieval' && task !== 'nlvr2') {
    console.error(USAGE);
    return 2;
  }
  const opts = optionPairs(rest, USAGE);
  if (!opts) return 2;
  if (!opts.model || !opts.dataset) {
    console.error(USAGE);
    return 2;
  }
  const device = (opts.device ?? 'auto') as 'auto' | 'cpu' | 'cuda';
  const backend = createBackend({ home: opts.home ?? defaultHome(), mode: 'browser' });
  const ctx = consoleContext(`eval ${task}`);
  try {
    const dataset = await datasetAt(backend.db, opts.dataset);
    const asked = opts.split ?? (task === 'nlvr2' ? 'dev' : 'test');
    const split = asked === 'all' ? ALL_SPLITS : asked;
    const intOpt = (name: string, fallback: number) => {
      const v = opts[name] === undefined ? fallback : Number(opts[name]);
      if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} must be a whole number, got "${opts[name]}"`);
      return v;
    };
    const resamples = intOpt('resamples', 1000);
    if (resamples < 100) throw new Error(`--resamples must be at least 100, got ${resamples}`);
    const bootstrap = { resamples, seed: intOpt('seed', 0) };
    const result = await runEvaluation(
      backend.db,
      {
        task,
        modelDir: path.resolve(opts.model),
        datasetId: dataset.id,
        split,
        k: intOpt('k', 10),
        rerankK: intOpt('rerank', 0),
        device,
        cacheDir: path.join(backend.home.cache, 'embeddings'),
      },
      ctx,
    );
    ctx.dispose();
    const out = {
      metrics: result.metrics,
      ci95: runIntervals(backend.db, getEvalRun(backend.db, result.runId), bootstrap),
      bootstrap,
      provider: result.provider,
      seconds: result.seconds,
      runId: result.runId,
      counts: result.counts,
      cache: result.cache,
      // ids as the dataset file writes them: sentids are numbers, NLVR2 identifiers strings
      mistakes: result.mistakes.map((m) => ({ ...m, id: m.kind === 'caption' ? Number(m.id) : m.id })),
    };
    if (opts.json) fs.writeFileSync(opts.json, JSON.stringify(out, null, 2));
    console.log(
      JSON.stringify(
        { ...out, mistakes: `${out.mistakes.length} (in ${opts.json ?? 'the JSON file when --json is given'})` },
        null,
        2,
      ),
    );
    return 0;
  } catch (e) {
    ctx.dispose();
    console.error(`mome eval: ${(e as Error).message}`);
    return 1;
  } finally {
    await backend.close();
  }
}
