// The figures of a report written exactly as the app's views write them (renderer/src/format.ts, RunsTable,
// RunComparison, FailureSlices, QueryList), so a number in the shared file reads the same as on screen.
// Plain functions without React: the backend builds the report.

export const fmtInt = (n: number) => n.toLocaleString('en');
/** A metric in percent, one decimal ('—' when absent). */
export const pct = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${v.toFixed(1)}%`);
/** A 95% interval under a metric: "lo–hi". */
export const ci = ([lo, hi]: [number, number]) => `${lo.toFixed(1)}–${hi.toFixed(1)}`;
/** A difference in points with its sign (− for minus, ± for zero). */
export const signed = (v: number | null) =>
  v === null ? '—' : `${v > 0 ? '+' : v < 0 ? '−' : '±'}${Math.abs(v).toFixed(1)}`;
/** A difference's paired interval: "−1.2 to +3.4". */
export const interval = (iv: [number, number] | undefined) =>
  iv ? `${signed(iv[0]).replace('±', '')} to ${signed(iv[1]).replace('±', '')}` : '—';
export const pValue = (p: number) => (p < 0.001 ? p.toExponential(1) : p.toFixed(3));
/** A slice's gap to the whole run, in points. */
export const pp = (v: number) => `${v > 0 ? '+' : v < 0 ? '−' : '±'}${Math.abs(v).toFixed(1)}`;
export const range = ([lo, hi]: [number, number], f: (v: number) => string) => `${f(lo)} to ${f(hi)}`;

export const METRIC_LABELS: Record<string, string> = {
  tr_r1: 'TR@1',
  tr_r5: 'TR@5',
  tr_r10: 'TR@10',
  ir_r1: 'IR@1',
  ir_r5: 'IR@5',
  ir_r10: 'IR@10',
  accuracy: 'Accuracy',
  tr_map_r: 'TR mAP@R',
  ir_map_r: 'IR mAP@R',
};
export const metricLabel = (name: string) => METRIC_LABELS[name] ?? name;

export function fmtBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

/** Every text from the data goes through this: captions and file names may hold <, &, quotes. */
export function esc(s: unknown): string {
  return String(s ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
