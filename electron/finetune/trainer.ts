// Runs `python -m mome finetune --config job.json` as a child process and streams its JSON lines. Cancelling
// sends SIGTERM (the trainer writes a checkpoint and exits); a trainer that does not exit in time is killed.
// The trainer also stops on its own when this process dies (killed, even with SIGKILL): its stdout pipe closes
// or it is re-parented, and it writes a checkpoint (exit code 3, its log file gets the lines no one reads here),
// so none is left behind and the job, interrupted at the next start, resumes. It is spawned in this process's
// group but is no part of this process: SIGKILL of this process alone leaves it to stop by itself.
import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { findPython, pythonEnv } from '../../model-runtime/src/index';

export interface TrainerMessage {
  type: string;
  [key: string]: unknown;
}

export interface TrainerOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  done: TrainerMessage | null;
  error: string | null;
}

/** Exit code of a trainer stopped by SIGTERM after writing its checkpoint (see mome/finetune/train.py). */
export const EXIT_STOPPED = 3;
const KILL_AFTER_MS = 30_000;

export function runTrainer(
  configPath: string,
  signal: AbortSignal,
  onMessage: (m: TrainerMessage) => void,
  onLog: (line: string) => void,
  onSpawn: (pid: number) => void = () => undefined,
): Promise<TrainerOutcome> {
  const python = findPython(); // throws with the install command when no interpreter imports torch
  return new Promise((resolve, reject) => {
    const child = spawn(python, ['-m', 'mome', 'finetune', '--config', configPath], {
      env: pythonEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let done: TrainerMessage | null = null;
    let error: string | null = null;
    let killTimer: NodeJS.Timeout | undefined;
    const stop = () => {
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
    };
    if (signal.aborted) stop();
    signal.addEventListener('abort', stop);
    if (child.pid) onSpawn(child.pid);
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      let m: TrainerMessage;
      try {
        m = JSON.parse(line) as TrainerMessage;
      } catch {
        onLog(line); // not a JSON line (a library's print): keep it in the log
        return;
      }
      if (m.type === 'done') done = m;
      if (m.type === 'error') error = String(m.message);
      onMessage(m);
    });
    readline.createInterface({ input: child.stderr! }).on('line', onLog);
    child.on('error', (e) => {
      signal.removeEventListener('abort', stop);
      reject(e);
    });
    child.on('close', (code, sig) => {
      signal.removeEventListener('abort', stop);
      if (killTimer) clearTimeout(killTimer);
      resolve({ code, signal: sig, done, error });
    });
  });
}
