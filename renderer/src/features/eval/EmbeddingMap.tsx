// The embedding map of a retrieval run: images (squares) and captions (dots) of a sample, placed by t-SNE of
// their dual-encoder embeddings (computed by the backend, off the UI thread), coloured by split or by error
// (missed at R@1). Click a point to open it; drag to draw a lasso and list the items inside.
import { useEffect, useMemo, useRef, useState } from 'react';
import type { EmbeddingMap as MapData } from '../../../../electron/api/schemas';
import { errorMessage, mome } from '../../api/mome';
import { fmtInt } from '../../format';
import { useEval } from './store';

type Point = MapData['points'][number];
const W = 720;
const H = 480;
const PALETTE = ['#5aa2ff', '#e3b341', '#4cc38a', '#c678dd', '#ef6b6b', '#56b6c2', '#d19a66', '#98c379'];

function inside(poly: [number, number][], x: number, y: number): boolean {
  let ins = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i];
    const [xj, yj] = poly[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) ins = !ins;
  }
  return ins;
}

function useMap(runId: number) {
  const [map, setMap] = useState<MapData | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let stale = false;
    setMap(null);
    setError(null);
    mome()
      .getEmbeddingMap({ runId, maxPoints: 1500 })
      .then((m) => !stale && setMap(m))
      .catch((e) => !stale && setError(errorMessage(e)));
    return () => {
      stale = true;
    };
  }, [runId]);
  return { map, error };
}

export function EmbeddingMap({ runId }: { runId: number }) {
  const { map, error } = useMap(runId);
  const [colorBy, setColorBy] = useState<'split' | 'error'>('error');
  const [lasso, setLasso] = useState<[number, number][]>([]);
  const [picked, setPicked] = useState<Point[]>([]);
  const [hover, setHover] = useState<Point | null>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const openItem = useEval((s) => s.openItem);

  const placed = useMemo(() => {
    if (!map) return [];
    const xs = map.points.map((p) => p.x);
    const ys = map.points.map((p) => p.y);
    const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    return map.points.map((p) => ({
      p,
      sx: 12 + ((p.x - x0) / (x1 - x0 || 1)) * (W - 24),
      sy: 12 + ((p.y - y0) / (y1 - y0 || 1)) * (H - 24),
    }));
  }, [map]);
  const splits = useMemo(() => [...new Set(placed.map((q) => q.p.split))].sort(), [placed]);
  const colour = (p: Point) =>
    colorBy === 'split'
      ? PALETTE[splits.indexOf(p.split) % PALETTE.length]
      : (p.rank ?? 0) >= 1
        ? '#ef6b6b'
        : '#4cc38a';

  useEffect(() => {
    const ctx = canvas.current?.getContext('2d');
    if (!ctx) return;
    ctx.clearRect(0, 0, W, H);
    for (const { p, sx, sy } of placed) {
      ctx.fillStyle = colour(p);
      ctx.globalAlpha = picked.length && !picked.includes(p) ? 0.25 : 0.85;
      if (p.kind === 'image') ctx.fillRect(sx - 3, sy - 3, 6, 6);
      else {
        ctx.beginPath();
        ctx.arc(sx, sy, 2.2, 0, 2 * Math.PI);
        ctx.fill();
      }
    }
    ctx.globalAlpha = 1;
    if (lasso.length > 1) {
      ctx.strokeStyle = '#8b93a1';
      ctx.beginPath();
      lasso.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
      ctx.stroke();
    }
  });

  const at = (e: React.MouseEvent): [number, number] => {
    const r = canvas.current!.getBoundingClientRect();
    return [((e.clientX - r.left) * W) / r.width, ((e.clientY - r.top) * H) / r.height];
  };
  const nearest = (x: number, y: number) => {
    let best: Point | null = null;
    let bd = 64; // within 8 px
    for (const q of placed) {
      const d = (q.sx - x) ** 2 + (q.sy - y) ** 2;
      if (d < bd) [best, bd] = [q.p, d];
    }
    return best;
  };
  const drawing = useRef(false);

  if (error) return <p className="empty">{error}</p>;
  if (!map) return <p className="muted">Computing the map of this run's embeddings…</p>;
  return (
    <div className="embedding-map" data-testid="embedding-map">
      <div className="row">
        <label>
          Colour by{' '}
          <select
            aria-label="Colour by"
            value={colorBy}
            onChange={(e) => setColorBy(e.target.value as 'split' | 'error')}
          >
            <option value="error">error (missed at R@1)</option>
            <option value="split">split</option>
          </select>
        </label>
        <span className="muted">
          {fmtInt(map.points.length)} of {fmtInt(map.total)} items · {map.method} · ■ image ● caption
        </span>
        {colorBy === 'split' &&
          splits.map((s) => (
            <span key={s} style={{ color: PALETTE[splits.indexOf(s) % PALETTE.length] }}>
              ● {s === '' ? '—' : s}
            </span>
          ))}
      </div>
      <canvas
        ref={canvas}
        width={W}
        height={H}
        className="map-canvas"
        onMouseDown={(e) => {
          drawing.current = true;
          setLasso([at(e)]);
        }}
        onMouseMove={(e) => {
          const [x, y] = at(e);
          if (drawing.current) setLasso((l) => [...l, [x, y]]);
          else setHover(nearest(x, y));
        }}
        onMouseUp={(e) => {
          drawing.current = false;
          if (lasso.length < 4) {
            const p = nearest(...at(e));
            setLasso([]);
            if (p) openItem({ runId, kind: p.kind, key: p.key });
            return;
          }
          setPicked(placed.filter((q) => inside(lasso, q.sx, q.sy)).map((q) => q.p));
          setLasso([]);
        }}
      />
      {hover && (
        <p className="muted">
          {hover.kind} {hover.key} ({hover.split}): {hover.text} · rank {hover.rank === null ? '—' : hover.rank + 1}
        </p>
      )}
      {picked.length > 0 && (
        <div className="flips">
          <h3>
            In the lasso: {fmtInt(picked.length)}{' '}
            <button type="button" className="link" onClick={() => setPicked([])}>
              clear
            </button>
          </h3>
          <ul>
            {picked.slice(0, 300).map((p) => (
              <li key={`${p.kind}:${p.key}`}>
                <button type="button" className="link" onClick={() => openItem({ runId, kind: p.kind, key: p.key })}>
                  <span className="muted">
                    {p.kind} {p.key}
                  </span>{' '}
                  {p.text}
                </button>
                <span className="num muted">{p.rank === null ? '—' : `#${p.rank + 1}`}</span>
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}
