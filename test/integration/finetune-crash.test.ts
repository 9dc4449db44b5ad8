// A fine-tune survives the app dying: a backend in a child process runs a fine-tune and is killed with SIGKILL
// mid-training; its trainer (an orphan now, not killed with it) finds its stdout closed, writes its checkpoint and
// exits cleanly, with its log file telling so; the next start of the app on the same home shows the job
// interrupted and resumable, and resuming continues from the checkpoint's step, not from 0.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createBackend, type Backend } from '../../electron/backend/index';
import type { FineTune, Job } from '../../electron/api/schemas';
import { tempDir } from './helpers/temp';
import { alive, randomModelDir, repo, trainerPid, waitFor } from './helpers/finetune';

interface LogLine {
  type: string;
  [key: string]: unknown;
}

/** Starts a backend in a child process with a long fine-tune; resolves once training has reported steps. */
function runningChild(home: string, modelDir: string) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(__dirname, 'helpers', 'finetune-child.ts'), home, modelDir],
    { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const running = new Promise<{ jobId: number; pid: number }>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /RUNNING (\d+) (\d+)/.exec(out);
      if (m) resolve({ jobId: Number(m[1]), pid: Number(m[2]) });
    });
    child.on('exit', (code) => reject(new Error(`child exited early (${code}): ${out}`)));
  });
  return { child, running };
}

const opened: Backend[] = [];
const pids: number[] = [];
afterAll(async () => {
  for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  for (const b of opened) await b.close();
});

describe('the app killed during a fine-tune', () => {
  it('the trainer writes its checkpoint and exits cleanly; the next start resumes the job from it', async () => {
    const home = tempDir();
    const modelDir = randomModelDir(path.join(tempDir(), 'tiny-random'));
    const { child, running } = runningChild(home, modelDir);
    const { jobId, pid } = await running;
    pids.push(pid);
    expect(alive(pid)).toBe(true);
    child.kill('SIGKILL'); // this process only: the trainer is its child, not killed with it
    await new Promise((r) => child.once('exit', r));
    await waitFor(
      () => alive(pid),
      (a) => !a,
      60_000,
    );

    // what the orphaned trainer did after the app was gone: only its log file can tell
    const dir = path.join(home, 'finetune', String(jobId));
    const text = fs.readFileSync(path.join(dir, 'trainer.log'), 'utf8');
    expect(text).not.toMatch(/Traceback|BrokenPipeError|Exception ignored/);
    const lines = text
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as LogLine);
    const types = lines.map((l) => l.type);
    expect(types).toContain('app_gone');
    expect(types.slice(-3)).toEqual(['checkpoint', 'stopped', 'exit']);
    const [checkpoint, stopped, exit] = lines.slice(-3);
    expect(exit.code).toBe(3); // stopped after writing a checkpoint (0 would be a finished run)
    expect(stopped.reason).toMatch(/the app is gone/);
    expect(checkpoint.step).toBe(stopped.step);
    expect(checkpoint.path).toBe(path.join(dir, 'checkpoint.pt'));
    expect(fs.existsSync(path.join(dir, 'checkpoint.pt'))).toBe(true);
    const stoppedAt = Number(stopped.step);

    // the next start of the app on the same home
    const again = createBackend({ home, mode: 'browser' });
    opened.push(again);
    const interrupted = (await again.call('getJob', { id: jobId })) as Job;
    expect(interrupted.state).toBe('interrupted');
    expect(interrupted.error).toMatch(/Resume it to continue from its last checkpoint/);
    const ft = (await again.call('getFineTune', { jobId })) as FineTune;
    expect(ft.resumable).toBe(true);
    expect(ft.points.length).toBeGreaterThan(0);
    const seen = ft.points.at(-1)!.step; // the last step the app recorded before it was killed
    expect(stoppedAt).toBeGreaterThanOrEqual(seen);
    expect(stoppedAt).toBeLessThan(100_000);

    const resumed = (await again.call('resumeFineTune', { jobId })) as Job;
    const going = await waitFor(
      () => again.call('getFineTune', { jobId: resumed.id }) as Promise<FineTune>,
      (f) =>
        f.points.some((p) => p.step > stoppedAt) &&
        trainerPid(f) !== null &&
        f.logTail.some((l) => l.startsWith('resumed')), // the log tail is saved about once a second
      120_000,
    );
    pids.push(trainerPid(going)!);
    expect(going.logTail.find((l) => l.startsWith('resumed'))).toContain(`"step":${stoppedAt}`);
    const first = going.points.find((p) => p.step > seen)!;
    expect(first.step).toBe(stoppedAt + 1); // the step count continues, not from 0
    expect(going.points.filter((p) => p.step <= seen).map((p) => p.step)).toEqual(ft.points.map((p) => p.step));
    // stop it here (SIGTERM: another checkpoint), rather than train 100 000 steps
    await again.call('cancelJob', { id: resumed.id });
    expect((await again.jobs.wait(resumed.id)).state).toBe('cancelled');
    expect(alive(trainerPid(going)!)).toBe(false);
    const log = fs.readFileSync(path.join(dir, 'trainer.log'), 'utf8').trim().split('\n');
    expect(JSON.parse(log.at(-1)!)).toMatchObject({ type: 'exit', code: 3 });
  }, 300_000);
});
