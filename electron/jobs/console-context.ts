// A JobContext for headless commands: progress goes to stderr as one updating line; Ctrl+C cancels.
import { JobCancelled, type JobContext } from './service';

export function consoleContext(
  label: string,
  stream: NodeJS.WriteStream = process.stderr,
): JobContext & { dispose(): void } {
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  const started = Date.now();
  let last = 0;
  let lastDraw = 0;
  const tty = stream.isTTY;
  return {
    signal: controller.signal,
    throwIfCancelled() {
      if (controller.signal.aborted) throw new JobCancelled();
    },
    progress(fraction, message = '') {
      last = Math.max(last, Math.min(1, fraction));
      const t = Date.now();
      if (t - lastDraw < (tty ? 100 : 2000) && last < 1) return;
      lastDraw = t;
      const elapsed = (t - started) / 1000;
      const eta = last > 0.02 ? Math.max(0, (elapsed / last) * (1 - last)) : NaN;
      const bar = '#'.repeat(Math.round(last * 20)).padEnd(20, '.');
      const line = `${label} [${bar}] ${(last * 100).toFixed(0).padStart(3)}% ${message}${Number.isFinite(eta) ? ` (ETA ${eta.toFixed(0)} s)` : ''}`;
      stream.write(
        tty ? `\r${line.slice(0, (stream.columns ?? 120) - 1).padEnd((stream.columns ?? 120) - 1)}` : `${line}\n`,
      );
    },
    dispose() {
      process.off('SIGINT', onSigint);
      if (tty) stream.write('\n');
    },
  };
}
