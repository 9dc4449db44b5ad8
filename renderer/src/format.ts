export const fmtInt = (n: number) => n.toLocaleString('en');

export function fmtBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

export function fmtDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${s % 60} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function fmtTime(iso: string | null): string {
  return iso ? new Date(iso).toLocaleString() : '—';
}

/** Short names of evaluation metrics (stored in percent). */
export const METRIC_LABELS: Record<string, string> = {
  tr_r1: 'TR@1',
  tr_r5: 'TR@5',
  tr_r10: 'TR@10',
  ir_r1: 'IR@1',
  ir_r5: 'IR@5',
  ir_r10: 'IR@10',
  accuracy: 'Accuracy',
};
