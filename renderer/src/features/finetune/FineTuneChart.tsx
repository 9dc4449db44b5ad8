// The loss and learning-rate curves of a fine-tune as one small inline SVG: loss on the left scale, lr on the
// right, steps along the bottom.
import type { FineTunePoint } from '../../../../electron/api/schemas';

const W = 520;
const H = 150;
const PAD = { left: 48, right: 60, top: 10, bottom: 22 };

function line(points: FineTunePoint[], value: (p: FineTunePoint) => number, maxStep: number): string {
  const vs = points.map(value);
  const lo = Math.min(...vs);
  const hi = Math.max(...vs);
  const span = hi - lo || 1;
  const x = (s: number) => PAD.left + ((W - PAD.left - PAD.right) * (s - 1)) / Math.max(1, maxStep - 1);
  const y = (v: number) => PAD.top + (H - PAD.top - PAD.bottom) * (1 - (v - lo) / span);
  return points.map((p, i) => `${x(p.step).toFixed(1)},${y(vs[i]).toFixed(1)}`).join(' ');
}

const fmt = (v: number) => (Math.abs(v) >= 0.01 || v === 0 ? v.toFixed(3) : v.toExponential(1));

export function FineTuneChart({ points, total }: { points: FineTunePoint[]; total: number }) {
  if (points.length === 0) return <p className="muted">The curve appears with the first training step.</p>;
  const maxStep = Math.max(total, points.at(-1)!.step);
  const losses = points.map((p) => p.loss);
  const lrs = points.map((p) => p.lr);
  return (
    <svg
      className="finetune-chart"
      data-testid="loss-chart"
      viewBox={`0 0 ${W} ${H}`}
      width={W}
      height={H}
      role="img"
      aria-label={`Loss from ${fmt(losses[0])} to ${fmt(losses.at(-1)!)} over ${points.at(-1)!.step} steps`}
    >
      <rect
        x={PAD.left}
        y={PAD.top}
        width={W - PAD.left - PAD.right}
        height={H - PAD.top - PAD.bottom}
        fill="none"
        stroke="currentColor"
        strokeOpacity={0.2}
      />
      <polyline
        points={line(points, (p) => p.lr, maxStep)}
        fill="none"
        stroke="#d08a2c"
        strokeWidth={1.2}
        strokeDasharray="4 3"
      />
      <polyline points={line(points, (p) => p.loss, maxStep)} fill="none" stroke="#3c8fdc" strokeWidth={1.6} />
      <text x={PAD.left - 4} y={PAD.top + 8} textAnchor="end" fontSize={10} fill="#3c8fdc">
        {fmt(Math.max(...losses))}
      </text>
      <text x={PAD.left - 4} y={H - PAD.bottom} textAnchor="end" fontSize={10} fill="#3c8fdc">
        {fmt(Math.min(...losses))}
      </text>
      <text x={W - PAD.right + 4} y={PAD.top + 8} fontSize={10} fill="#d08a2c">
        {fmt(Math.max(...lrs))}
      </text>
      <text x={W - PAD.right + 4} y={H - PAD.bottom} fontSize={10} fill="#d08a2c">
        {fmt(Math.min(...lrs))}
      </text>
      <text x={PAD.left} y={H - 6} fontSize={10} fill="currentColor">
        step 1
      </text>
      <text x={W - PAD.right} y={H - 6} fontSize={10} textAnchor="end" fill="currentColor">
        {maxStep}
      </text>
      <text x={W / 2} y={H - 6} fontSize={10} textAnchor="middle" fill="currentColor">
        — loss · - - lr
      </text>
    </svg>
  );
}
