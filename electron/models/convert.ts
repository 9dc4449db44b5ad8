// The one way a checkpoint becomes a model folder: the PyTorch converter, run as a child process.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { ApiError } from '../api/contract';
import { JobCancelled, type JobContext } from '../jobs/service';
import { findPython, pythonEnv } from '../../model-runtime/src/index';

const STAGES = ['load', 'loaded', 'hash', 'export'];
const MAX_LOG_LINES = 5000;

interface ConverterLine {
  type: string;
  stage?: string;
  graph?: string;
  message?: string;
}

/**
 * Converts an official VLMo checkpoint into a model folder at `out` with `python -m mome convert`, as part of a
 * job: its progress lines move the job's bar, a cancel kills Python, a failure says Python's last words. The
 * converter's whole output is kept: as conversion.log in the new folder, or in `failedLog` when it fails.
 */
export function convertCheckpoint(
  checkpoint: string,
  out: string,
  ctx: JobContext,
  vocab: string | undefined,
  failedLog: string,
): Promise<void> {
  const args = ['-m', 'mome', 'convert', '--checkpoint', checkpoint, '--out', out];
  if (vocab) args.push('--vocab', vocab);
  const log: string[] = [`$ python ${args.join(' ')}`];
  const keep = (line: string) => log.length < MAX_LOG_LINES && log.push(line);
  return new Promise((resolve, reject) => {
    const child = spawn(findPython(), args, { env: pythonEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const onAbort = () => child.kill('SIGTERM');
    ctx.signal.addEventListener('abort', onAbort);
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      keep(line);
      const m = parse(line);
      if (m?.type !== 'progress') return;
      const i = Math.max(0, STAGES.indexOf(m.stage ?? ''));
      ctx.progress(0.1 + (0.8 * i) / STAGES.length, m.graph ? `Exporting ${m.graph}` : `Converting: ${m.stage}`);
    });
    const stderr: string[] = [];
    readline.createInterface({ input: child.stderr! }).on('line', (line) => {
      keep(line);
      if (line.trim()) stderr.push(line);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      ctx.signal.removeEventListener('abort', onAbort);
      if (ctx.signal.aborted) return reject(new JobCancelled());
      if (code === 0) {
        fs.writeFileSync(path.join(out, 'conversion.log'), `${log.join('\n')}\n`);
        return resolve();
      }
      fs.mkdirSync(path.dirname(failedLog), { recursive: true });
      fs.writeFileSync(failedLog, `${log.join('\n')}\n`);
      const last = stderr.at(-1) ?? '';
      const message = parse(last)?.message ?? last;
      reject(
        new ApiError(
          'invalid_arguments',
          `Converting ${path.basename(checkpoint)} failed: ${message || `exit code ${code}`} (the converter's log: ${failedLog})`,
        ),
      );
    });
  });
}

function parse(line: string): ConverterLine | null {
  try {
    const v = JSON.parse(line) as unknown;
    return v && typeof v === 'object' ? (v as ConverterLine) : null;
  } catch {
    return null; // a plain text line
  }
}
