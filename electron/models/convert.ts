// The one way a checkpoint becomes a model folder: the PyTorch converter, run as a child process.
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { ApiError } from '../api/contract';
import type { JobContext } from '../jobs/service';
import { findPython, pythonEnv } from '../../model-runtime/src/python';

/**
 * Converts an official VLMo checkpoint into a model folder at `out` with `python -m mome convert`, as part of a
 * job: its progress lines move the job's bar, a cancel kills Python, a failure says Python's last words.
 * Answers the checkpoint's sha256 as Python computed it.
 */
export function convertCheckpoint(
  checkpoint: string,
  out: string,
  ctx: JobContext,
  vocab?: string,
): Promise<string | null> {
  const python = findPython();
  const args = [
    '-m',
    'mome',
    'convert',
    '--checkpoint',
    checkpoint,
    '--out',
    out,
    ...(vocab ? ['--vocab', vocab] : []),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(python, args, { env: pythonEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const stages = ['load', 'loaded', 'hash', 'export'];
    let sha: string | null = null;
    let stderr = '';
    const onAbort = () => child.kill('SIGTERM');
    ctx.signal.addEventListener('abort', onAbort);
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const m = JSON.parse(line) as {
          type: string;
          stage?: string;
          graph?: string;
          source_sha256?: string;
          provenance?: { source_sha256?: string };
        };
        if (m.type === 'progress') {
          const i = Math.max(0, stages.indexOf(m.stage ?? ''));
          ctx.progress(0.1 + (0.8 * i) / stages.length, m.graph ? `Exporting ${m.graph}` : `Converting: ${m.stage}`);
        } else if (m.type === 'done') sha = m.source_sha256 ?? m.provenance?.source_sha256 ?? null;
      } catch {
        // not a JSON line: ignore
      }
    });
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      ctx.signal.removeEventListener('abort', onAbort);
      if (ctx.signal.aborted) return reject(new Error('Cancelled'));
      if (code === 0) return resolve(sha);
      let message = stderr.trim().split('\n').at(-1) ?? '';
      try {
        message = (JSON.parse(message) as { message: string }).message;
      } catch {
        // plain text
      }
      reject(
        new ApiError(
          'invalid_arguments',
          `Converting ${path.basename(checkpoint)} failed: ${message || `exit code ${code}`}`,
        ),
      );
    });
  });
}
