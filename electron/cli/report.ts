// `mome report --run ID [--compare ID] --out FILE.html [--home DIR]`
// Writes a run (or run ID against run --compare, Δ = run − other) as one self-contained HTML file to share, as
// the evaluation view's "Export report" does; prints {"path", "bytes", "thumbnails"} as JSON.
import path from 'node:path';
import { createBackend } from '../backend/index';
import { defaultHome } from '../store/home';
import { optionPairs } from './options';

const USAGE = 'usage: mome report --run ID [--compare ID] --out FILE.html [--home DIR]';

export async function reportCommand(argv: string[]): Promise<number> {
  const opts = optionPairs(argv, USAGE);
  if (!opts) return 2;
  const unknown = Object.keys(opts).filter((k) => !['run', 'compare', 'out', 'home'].includes(k));
  if (unknown.length || !opts.run || !opts.out) {
    console.error(unknown.length ? `unknown option --${unknown[0]}\n${USAGE}` : USAGE);
    return 2;
  }
  const id = (name: string) => {
    const v = Number(opts[name]);
    if (!Number.isInteger(v) || v <= 0)
      throw new Error(`--${name} must be a run id (a positive whole number), got "${opts[name]}"`);
    return v;
  };
  const backend = createBackend({ home: opts.home ?? defaultHome(), mode: 'browser' });
  try {
    const result = await backend.call('exportEvalReport', {
      runId: id('run'),
      ...(opts.compare !== undefined ? { compareRunId: id('compare') } : {}),
      out: path.resolve(opts.out),
    });
    console.log(JSON.stringify(result, null, 2));
    return 0;
  } catch (e) {
    console.error(`mome report: ${(e as Error).message}`);
    return 1;
  } finally {
    await backend.close();
  }
}
