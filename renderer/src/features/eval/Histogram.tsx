// A small bar chart of counts per bin (ground-truth ranks, score margins), drawn as SVG.
import type { HistogramBin } from '../../../../electron/api/schemas';
import { fmtInt } from '../../format';

export function Histogram({
  title,
  bins,
  highlight,
  testId,
}: {
  title: string;
  bins: HistogramBin[];
  /** Bins drawn in the accent colour (e.g. the hits at R@1, the negative margins). */
  highlight?: (bin: HistogramBin) => boolean;
  testId?: string;
}) {
  const W = 320;
  const H = 110;
  const max = Math.max(1, ...bins.map((b) => b.count));
  const bw = W / Math.max(1, bins.length);
  return (
    <figure className="eval-histogram" data-testid={testId}>
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${W} ${H + 28}`} role="img" aria-label={title}>
        {bins.map((b, j) => {
          const h = (H * b.count) / max;
          return (
            <g key={j}>
              <rect x={j * bw + 1} y={H - h} width={bw - 2} height={h} className={highlight?.(b) ? 'bar hot' : 'bar'}>
                <title>
                  {b.label}: {fmtInt(b.count)}
                </title>
              </rect>
              {(bins.length <= 12 || j % Math.ceil(bins.length / 6) === 0) && (
                <text x={j * bw + bw / 2} y={H + 12} textAnchor="middle" className="tick">
                  {b.label}
                </text>
              )}
            </g>
          );
        })}
        <line x1={0} x2={W} y1={H} y2={H} className="axis" />
      </svg>
    </figure>
  );
}
