// Main-thread writes that never wait inside SQLite. A dataset worker thread (import, refresh, removal) holds the
// write lock for one chunk at a time; a main-thread write that found the lock taken used to sleep in SQLite's
// busy handler (busy_timeout), which blocks the event loop: every request waited with it. Through the gate, a
// write is tried with busy_timeout 0; when the lock is taken it is queued and retried from a timer (the event
// loop keeps answering), and the worker, which checks `shared` between its transactions, leaves the lock free
// until the queue is empty. A write is resolved only after it committed, in the order the writes arrived.
//
// The main connection keeps its busy_timeout for the writes that do not go through the gate (rare ones: a job
// row created, a setting, an evaluation's results): setting it to 0 for all would make those fail whenever
// another process (the CLI, a second window) or a worker writes at that moment.
import { ApiError } from '../api/contract';
import type { Db } from './db';

/** Whether an error is SQLite's "database is locked" (any SQLITE_BUSY variant): nothing was written. */
export function isBusy(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

/** How often a queued write is tried again. */
const RETRY_MS = 2;

interface Queued {
  fn: () => unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  deadline: number;
}

export class WriteGate {
  /** [0]: 1 while main-thread writes are queued; given to worker threads (yieldToMainThread). */
  readonly shared = new SharedArrayBuffer(4);
  private readonly flag = new Int32Array(this.shared);
  private readonly queue: Queued[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly busyTimeout: number;
  private workers = 0;

  constructor(
    private readonly db: Db,
    /** A write still waiting after this long is refused (nothing written), so a caller never hangs. */
    private readonly maxWaitMs = 30_000,
  ) {
    this.busyTimeout = db.pragma('busy_timeout', { simple: true }) as number;
  }

  /**
   * Runs `fn` (a write: one transaction, or one statement) when the write lock is free: at once if it is, else
   * queued. `fn` must have no effect outside the database before it commits, since a busy attempt runs it again.
   */
  run<T>(fn: () => T): Promise<T> {
    if (this.queue.length === 0) {
      try {
        const r = this.attempt(fn);
        if (r.done) return Promise.resolve(r.value);
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        fn,
        resolve: resolve as (v: unknown) => void,
        reject,
        deadline: Date.now() + this.maxWaitMs,
      });
      Atomics.store(this.flag, 0, 1);
      this.timer ??= setTimeout(this.pump, RETRY_MS);
    });
  }

  /** Runs `fn` if the write lock is free now; false (nothing written) if it is not. For writes that may be skipped. */
  tryNow(fn: () => void): boolean {
    if (this.queue.length) return false;
    return this.attempt(fn).done;
  }

  /**
   * A worker thread writes from now until `workerEnded`. Meanwhile the main connection does not checkpoint the
   * WAL after its commits (the worker's connection does, after its own): a checkpoint copies the pages a worker
   * wrote into the database file, which would take the main thread tens of milliseconds or more.
   */
  workerStarted(): void {
    if (this.workers++ === 0) this.db.pragma('wal_autocheckpoint = 0');
  }

  workerEnded(): void {
    if (--this.workers === 0) this.db.pragma('wal_autocheckpoint = 1000');
  }

  private attempt<T>(fn: () => T): { done: true; value: T } | { done: false } {
    this.db.pragma('busy_timeout = 0');
    try {
      return { done: true, value: fn() };
    } catch (e) {
      if (isBusy(e)) return { done: false };
      throw e;
    } finally {
      this.db.pragma(`busy_timeout = ${this.busyTimeout}`);
    }
  }

  private readonly pump = () => {
    this.timer = null;
    while (this.queue.length) {
      const head = this.queue[0];
      let r: { done: true; value: unknown } | { done: false };
      try {
        r = this.attempt(head.fn);
      } catch (e) {
        this.queue.shift();
        head.reject(e);
        continue;
      }
      if (r.done) {
        this.queue.shift();
        head.resolve(r.value);
      } else if (Date.now() > head.deadline) {
        this.queue.shift();
        head.reject(
          new ApiError(
            'conflict',
            `The database stayed busy for ${Math.round(this.maxWaitMs / 1000)} s (another process or a long import is writing); nothing was saved. Try again.`,
          ),
        );
      } else {
        this.timer = setTimeout(this.pump, RETRY_MS);
        return;
      }
    }
    Atomics.store(this.flag, 0, 0);
    Atomics.notify(this.flag, 0);
  };
}

/**
 * In a worker thread, between two write transactions: while the main thread has writes queued (see WriteGate),
 * waits with the write lock free, at most `maxMs` (so a main thread that stopped answering does not stop the
 * worker).
 */
export function yieldToMainThread(shared: SharedArrayBuffer | undefined, maxMs = 250): void {
  if (!shared) return;
  const flag = new Int32Array(shared);
  const until = Date.now() + maxMs;
  while (Atomics.load(flag, 0) !== 0) {
    const left = until - Date.now();
    if (left <= 0) return;
    Atomics.wait(flag, 0, 1, left);
  }
}

const gates = new WeakMap<Db, WriteGate>();

/** The one gate of a connection (the backend, the job service and the importer share it). */
export function gateFor(db: Db): WriteGate {
  let g = gates.get(db);
  if (!g) gates.set(db, (g = new WriteGate(db)));
  return g;
}
