import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createBackend, type Backend } from '../../electron/backend/index';
import type { FolderScan, Job } from '../../electron/api/schemas';
import { makeTree, tempDir } from './helpers/temp';

const repoRoot = path.resolve(__dirname, '..', '..');
let open: Backend[] = [];
afterEach(async () => {
  await Promise.all(open.map((b) => b.close()));
  open = [];
});
function backend(home = tempDir()): Backend {
  const b = createBackend({ home, mode: 'browser' });
  open.push(b);
  return b;
}

describe('jobs', () => {
  it('a folder scan runs as a job row with progress events and a result', async () => {
    const b = backend();
    const folder = tempDir();
    makeTree(folder, 30, 20);
    fs.writeFileSync(path.join(folder, 'dataset_coco.json'), '{"images": []}');
    const progress: Job[] = [];
    b.events.on('jobProgress', (j) => progress.push(j));
    const started = (await b.call('startFolderScan', { path: folder })) as Job;
    expect(started.state).toBe('running');
    const done = await b.jobs.wait(started.id);
    expect(done.state).toBe('succeeded');
    expect(done.progress).toBe(1);
    const scan = done.result as FolderScan;
    expect(scan.files).toBe(30 * 20 + 1);
    expect(scan.images).toBe(30 * 10);
    expect(scan.directories).toBe(30);
    expect(scan.detectedKind).toBe('coco');
    expect(scan.annotationFiles).toEqual(['dataset_coco.json']);
    expect(progress.length).toBeGreaterThan(0);
    const fractions = progress.map((j) => j.progress);
    expect([...fractions].sort((a, c) => a - c)).toEqual(fractions); // monotonic
    // the row is in SQLite, not only in memory
    const row = b.db.prepare('SELECT state, result FROM jobs WHERE id = ?').get(started.id) as {
      state: string;
      result: string;
    };
    expect(row.state).toBe('succeeded');
    expect(JSON.parse(row.result).files).toBe(scan.files);
  });

  it('a failing job records the error', async () => {
    const b = backend();
    const job = (await b.call('startFolderScan', { path: path.join(tempDir(), 'missing') })) as Job;
    const done = await b.jobs.wait(job.id);
    expect(done.state).toBe('failed');
    expect(done.error).toMatch(/does not exist/);
  });

  it('cancel stops a running scan and the row ends cancelled', async () => {
    const b = backend();
    const folder = tempDir();
    makeTree(folder, 200, 50);
    const job = (await b.call('startFolderScan', { path: folder })) as Job;
    await new Promise<void>((resolve) => {
      const off = b.events.on('jobProgress', (j) => {
        if (j.id === job.id) {
          off();
          resolve();
        }
      });
    });
    await b.call('cancelJob', { id: job.id });
    const done = await b.jobs.wait(job.id);
    expect(done.state).toBe('cancelled');
    expect(done.result).toBeNull();
  });

  it('a job running when its process is killed shows as interrupted on the next start', async () => {
    const home = tempDir();
    const folder = tempDir();
    makeTree(folder, 400, 100);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(__dirname, 'helpers', 'scan-child.ts'), home, folder],
      {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const jobId = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d) => {
        out += d;
        const m = /RUNNING (\d+)/.exec(out);
        if (m) {
          child.kill('SIGKILL');
          resolve(Number(m[1]));
        }
      });
      child.on('exit', (code, signal) => {
        if (signal !== 'SIGKILL') reject(new Error(`child exited early (${code}): ${out}`));
      });
    });
    await new Promise((r) => child.once('exit', r));
    const b = backend(home);
    const job = (await b.call('getJob', { id: jobId })) as Job;
    expect(job.state).toBe('interrupted');
    expect(job.message).toMatch(/Interrupted at \d+%/);
    expect(job.finishedAt).not.toBeNull();
    expect(b.db.pragma('integrity_check', { simple: true })).toBe('ok');
  });
});
