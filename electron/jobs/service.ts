// Long work as jobs: every job is a SQLite row (state, progress, message, error, result), progress is
// pushed as events, jobs can be cancelled, and a job whose process died shows as interrupted. A running job's
// progress lives in memory (this process reads it from there); its row gets it only when the write lock is
// free, never waiting for it, so progress ticks never block the event loop behind a worker thread's writes.
import { ApiError } from '../api/contract';
import type { Job, JobState } from '../api/schemas';
import { now, type Db } from '../store/db';
import { gateFor, type WriteGate } from '../store/write-gate';

export interface JobContext {
  readonly signal: AbortSignal;
  /** Report progress (0..1, clamped and kept monotonic) with a short human message. */
  progress(fraction: number, message?: string): void;
  throwIfCancelled(): void;
}

export type JobRunner<R> = (ctx: JobContext) => Promise<R>;

export interface JobEvents {
  progress(job: Job): void;
  finished(job: Job): void;
}

interface JobRow {
  id: number;
  kind: string;
  title: string;
  state: JobState;
  progress: number;
  message: string;
  params: string;
  result: string | null;
  error: string | null;
  pid: number | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

/** The one error a cancelled job ends with, wherever it notices (a loop's check, a child process's exit). */
export class JobCancelled extends Error {
  constructor() {
    super('Cancelled by the user');
    this.name = 'JobCancelled';
  }
}

function toJob(r: JobRow): Job {
  return {
    id: r.id,
    kind: r.kind,
    title: r.title,
    state: r.state,
    progress: r.progress,
    message: r.message,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    error: r.error,
    params: JSON.parse(r.params),
    result: r.result === null ? null : JSON.parse(r.result),
  };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Progress events go out at most this often. */
const PROGRESS_INTERVAL_MS = 100;
/** A running job's row is given its progress at most this often (for other processes), and only if the lock is free. */
const PERSIST_INTERVAL_MS = 1000;

export class JobService {
  private readonly running = new Map<number, AbortController>();
  private readonly settled = new Map<number, Promise<Job>>();
  /** Progress and message of this process's running jobs (newer than their rows). */
  private readonly live = new Map<number, { progress: number; message: string }>();
  private readonly gate: WriteGate;

  constructor(
    private readonly db: Db,
    private readonly events: JobEvents,
    private readonly pid = process.pid,
  ) {
    this.gate = gateFor(db);
  }

  private toLiveJob(r: JobRow): Job {
    const l = this.live.get(r.id);
    return toJob(l && r.state === 'running' ? { ...r, progress: l.progress, message: l.message } : r);
  }

  /**
   * Marks jobs whose owning process is gone as interrupted. Called at start-up; a second backend on the
   * same database (a window and a browser-mode server) keeps the other's live jobs untouched.
   */
  recoverInterrupted(): Job[] {
    const stale = (this.db.prepare(`SELECT * FROM jobs WHERE state IN ('queued','running')`).all() as JobRow[]).filter(
      (r) => r.pid === null || r.pid === this.pid || !processAlive(r.pid),
    );
    const mark = this.db.prepare(
      `UPDATE jobs SET state = 'interrupted', finished_at = ?, message = ?, error = ? WHERE id = ?`,
    );
    const at = now();
    this.db.transaction(() => {
      for (const r of stale) {
        mark.run(
          at,
          `Interrupted at ${Math.round(r.progress * 100)}%: the app stopped while this job was running`,
          r.kind === 'finetune'
            ? 'The process running this job ended before the job finished. Resume it to continue from its last checkpoint.'
            : 'The process running this job ended before the job finished. Start it again.',
          r.id,
        );
      }
    })();
    return stale.map((r) => this.get(r.id));
  }

  get(id: number): Job {
    const row = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
    if (!row) throw new ApiError('not_found', `There is no job ${id}.`);
    return this.toLiveJob(row);
  }

  list(limit = 100): Job[] {
    return (this.db.prepare('SELECT * FROM jobs ORDER BY id DESC LIMIT ?').all(limit) as JobRow[]).map((r) =>
      this.toLiveJob(r),
    );
  }

  /** Creates the row and starts the work on the next tick; returns the job as first stored. */
  start<R>(kind: string, title: string, params: unknown, runner: JobRunner<R>): Job {
    const info = this.db
      .prepare(
        `INSERT INTO jobs (kind, title, state, progress, message, params, pid, created_at, started_at)
         VALUES (?, ?, 'running', 0, 'Starting', ?, ?, ?, ?)`,
      )
      .run(kind, title, JSON.stringify(params ?? {}), this.pid, now(), now());
    const id = Number(info.lastInsertRowid);
    const controller = new AbortController();
    this.running.set(id, controller);
    const job = this.get(id);
    this.settled.set(id, this.run(id, controller, runner));
    return job;
  }

  /** Resolves when the job reaches a final state (for tests and callers that wait). */
  async wait(id: number): Promise<Job> {
    return (await this.settled.get(id)) ?? this.get(id);
  }

  cancel(id: number): Job {
    const job = this.get(id);
    const controller = this.running.get(id);
    if (!controller) {
      if (job.state === 'running' || job.state === 'queued') {
        throw new ApiError('conflict', `Job ${id} runs in another process; cancel it there.`);
      }
      return job; // already final: cancelling is a no-op, not an error
    }
    controller.abort();
    const l = this.live.get(id);
    if (l) l.message = 'Cancelling';
    return this.get(id);
  }

  /** Aborts every job of this process (on shutdown); their rows end as cancelled. */
  async cancelAll(): Promise<void> {
    for (const c of this.running.values()) c.abort();
    await Promise.allSettled([...this.settled.values()]);
  }

  private async run<R>(id: number, controller: AbortController, runner: JobRunner<R>): Promise<Job> {
    await Promise.resolve();
    let last = 0;
    let lastEvent = 0;
    let lastPersist = Date.now();
    const live = { progress: 0, message: 'Starting' };
    this.live.set(id, live);
    const write = this.db.prepare(`UPDATE jobs SET progress = ?, message = ? WHERE id = ? AND state = 'running'`);
    const ctx: JobContext = {
      signal: controller.signal,
      throwIfCancelled: () => {
        if (controller.signal.aborted) throw new JobCancelled();
      },
      progress: (fraction, message) => {
        const p = Math.max(last, Math.min(1, Number.isFinite(fraction) ? fraction : 0));
        last = p;
        live.progress = p;
        if (!controller.signal.aborted) live.message = message ?? '';
        const t = Date.now();
        if (t - lastEvent < PROGRESS_INTERVAL_MS && p < 1) return;
        lastEvent = t;
        if (t - lastPersist >= PERSIST_INTERVAL_MS) {
          lastPersist = t;
          this.gate.tryNow(() => write.run(live.progress, live.message, id)); // skipped while a worker writes
        }
        this.events.progress(this.get(id));
      },
    };
    let final: Job;
    // the final row waits for the write lock without blocking (a worker may be writing another dataset)
    const settle = async (write: () => void) => {
      await this.gate.run(write).catch(write);
    };
    try {
      const result = await runner(ctx);
      if (controller.signal.aborted) throw new JobCancelled();
      await settle(() =>
        this.db
          .prepare(
            `UPDATE jobs SET state = 'succeeded', progress = 1, message = 'Done', result = ?, finished_at = ? WHERE id = ?`,
          )
          .run(JSON.stringify(result ?? null), now(), id),
      );
    } catch (e) {
      const cancelled = controller.signal.aborted || e instanceof JobCancelled;
      const error = e instanceof Error ? e.message : String(e);
      await settle(() =>
        this.db
          .prepare(`UPDATE jobs SET state = ?, message = ?, error = ?, finished_at = ? WHERE id = ?`)
          .run(
            cancelled ? 'cancelled' : 'failed',
            cancelled ? 'Cancelled' : 'Failed',
            cancelled ? null : error,
            now(),
            id,
          ),
      );
    } finally {
      this.running.delete(id);
      this.live.delete(id);
      final = this.get(id);
      this.events.finished(final);
    }
    return final;
  }
}
