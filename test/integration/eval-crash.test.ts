// kill -9 while an evaluation writes its rows in batches leaves a consistent database: the partial run is
// there but hidden (state 'writing', listed and read by nothing), and the next start deletes it with its rows.
// A run that finishes is whole: every query's row, visible only with its metrics.
import { spawn } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createBackend } from '../../electron/backend/index';
import { importDataset } from '../../electron/datasets/importer';
import { getEvalRun, listEvalRuns } from '../../electron/eval/repository';
import { exportRandomModels } from './helpers/models';
import { tempDir } from './helpers/temp';

const repoRoot = path.resolve(__dirname, '..', '..');
const quiet = { signal: new AbortController().signal, progress: () => undefined, throwIfCancelled: () => undefined };

/** Runs the child until `killAfter` batches are committed (then SIGKILL), or to its end; returns what it printed. */
async function child(home: string, datasetId: number, modelDir: string, killAfter: number) {
  const p = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(__dirname, 'helpers', 'eval-child.ts'), home, String(datasetId), modelDir],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const batches: { runId: number; rows: number }[] = [];
  let done = false;
  await new Promise<void>((resolve) => {
    let buf = '';
    p.stdout!.on('data', (d) => {
      buf += d;
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const line of lines) {
        const m = /^BATCH (\d+) (\d+)$/.exec(line);
        if (m) batches.push({ runId: Number(m[1]), rows: Number(m[2]) });
        if (line === 'DONE') done = true;
      }
      if ((batches.length >= killAfter || done) && !p.killed) {
        p.kill('SIGKILL');
        resolve();
      }
    });
    p.once('exit', () => resolve());
  });
  await new Promise((r) => (p.exitCode === null && p.signalCode === null ? p.once('exit', r) : r(null)));
  return { batches, done };
}

describe('evaluation and kill -9', () => {
  it('a run killed while writing its rows stays hidden and is deleted at the next start; a finished run is whole', async () => {
    const home = tempDir();
    const [modelDir] = exportRandomModels([{ out: path.join(tempDir('mome-crash-models-'), 'model'), seed: 3 }]);
    const first = createBackend({ home, mode: 'browser' });
    const { datasetId } = await importDataset(
      first.db,
      { root: path.join(repoRoot, 'assets', 'datasets', 'coco-sample') },
      quiet,
    );
    const database = first.home.database;
    await first.close();

    const killed = await child(home, datasetId, modelDir, 8);
    expect(killed.done).toBe(false);
    expect(killed.batches.length).toBeGreaterThanOrEqual(8);
    const runId = killed.batches[0].runId;

    // before any start-up: the committed batches are there, the run is hidden from every read
    const raw = new Database(database);
    try {
      expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
      const run = raw.prepare('SELECT state, busy_pid FROM eval_runs WHERE id = ?').get(runId) as { state: string };
      expect(run.state).toBe('writing');
      const rows = raw.prepare('SELECT count(*) FROM eval_items WHERE run_id = ?').pluck().get(runId) as number;
      expect(rows).toBeGreaterThanOrEqual(killed.batches.reduce((n, b) => n + b.rows, 0));
      expect(listEvalRuns(raw)).toEqual([]);
      expect(() => getEvalRun(raw, runId)).toThrow(/no evaluation run/);
    } finally {
      raw.close();
    }

    // the next start deletes the partial run and its rows (in steps, in the background)
    const again = createBackend({ home, mode: 'browser' });
    try {
      for (let i = 0; i < 100 && again.db.prepare('SELECT count(*) FROM eval_runs').pluck().get() !== 0; i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(again.db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(again.db.prepare('SELECT count(*) FROM eval_runs').pluck().get()).toBe(0);
      expect(again.db.prepare('SELECT count(*) FROM eval_items').pluck().get()).toBe(0);
    } finally {
      await again.close();
    }

    // a run left to finish: visible, with every row
    const whole = await child(home, datasetId, modelDir, Infinity);
    expect(whole.done).toBe(true);
    const last = createBackend({ home, mode: 'browser' });
    try {
      const [run] = listEvalRuns(last.db);
      expect(run.id).toBe(whole.batches[0].runId);
      const n = last.db.prepare('SELECT count(*) FROM eval_items WHERE run_id = ?').pluck().get(run.id);
      expect(n).toBe(whole.batches.reduce((s, b) => s + b.rows, 0));
      expect(Object.keys(run.metrics)).toContain('ir_r1');
    } finally {
      await last.close();
    }
  }, 180_000);
});
