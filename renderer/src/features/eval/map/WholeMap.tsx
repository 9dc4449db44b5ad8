// Every image and caption of a run on one map, drawn by WebGL2 (gl-points.ts): drag to pan, wheel to zoom,
// colour by split, kind, rank of the truth or label state, hover for a preview (the nearest point from a grid
// index), and a lasso (L, or Shift+drag) whose points open in a selection grid.
import { useEffect, useMemo, useRef, useState } from 'react';
import type { EmbeddingMapItem } from '../../../../../electron/api/schemas';
import { errorMessage, mediaUrl, mome } from '../../../api/mome';
import { fmtInt } from '../../../format';
import { ProgressBar } from '../../../components/ProgressBar';
import { useEval } from '../store';
import { PointsRenderer, toMap, toScreen, type View } from './gl-points';
import { GridIndex, lassoSelect } from './spatial';
import { useWholeMap, type MapData } from './useWholeMap';
import { SelectionGrid } from './SelectionGrid';

type ColorBy = 'split' | 'kind' | 'rank' | 'label';
const PALETTE: [number, number, number][] = [
  [90, 162, 255],
  [227, 179, 65],
  [76, 195, 138],
  [198, 120, 221],
  [239, 107, 107],
  [86, 182, 194],
  [209, 154, 102],
  [152, 195, 121],
];
const GREY: [number, number, number] = [120, 128, 140];

/** The legend of a colouring: its classes, in order, and the class of each point. */
function classes(
  d: MapData,
  by: ColorBy,
): { names: string[]; colors: [number, number, number][]; of(i: number): number } {
  switch (by) {
    case 'split':
      return {
        names: d.splits.map((s) => s || '—'),
        colors: d.splits.map((_, i) => PALETTE[i % 8]),
        of: (i) => d.split[i],
      };
    case 'kind':
      return { names: ['image', 'caption'], colors: [PALETTE[0], PALETTE[1]], of: (i) => d.kind[i] };
    case 'rank':
      return {
        names: ['found first', 'rank 2–5', 'rank 6–10', 'below 10', 'not ranked'],
        colors: [PALETTE[2], PALETTE[1], PALETTE[6], PALETTE[4], GREY],
        of: (i) => {
          const r = d.rank[i];
          return r < 0 ? 4 : r === 0 ? 0 : r < 5 ? 1 : r < 10 ? 2 : 3;
        },
      };
    case 'label':
      return {
        names: ['untouched', 'edited', 'judged pair'],
        colors: [GREY, PALETTE[1], PALETTE[3]],
        of: (i) => d.label[i],
      };
  }
}

const FIT: View = { scale: 1, tx: 0, ty: 0 };

export function WholeMap({ runId }: { runId: number }) {
  const { data, job, error } = useWholeMap(runId);
  const [colorBy, setColorBy] = useState<ColorBy>('rank');
  const [view, setView] = useState<View>(FIT);
  const [lassoMode, setLassoMode] = useState(false);
  const [lasso, setLasso] = useState<[number, number][]>([]);
  const lassoRef = useRef<[number, number][]>([]);
  lassoRef.current = lasso;
  const [selection, setSelection] = useState<{ indices: Uint32Array; ms: number } | null>(null);
  const [hover, setHover] = useState<{ at: [number, number]; item: EmbeddingMapItem | null; index: number } | null>(
    null,
  );
  const [glError, setGlError] = useState<string | null>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const renderer = useRef<PointsRenderer | null>(null);
  const drag = useRef<{ x: number; y: number; view: View; moved: boolean; lasso: boolean } | null>(null);
  const openItem = useEval((s) => s.openItem);

  const index = useMemo(() => (data ? new GridIndex(data.pos) : null), [data]);
  const legend = useMemo(() => (data ? classes(data, colorBy) : null), [data, colorBy]);
  const counts = useMemo(() => {
    if (!data || !legend) return [];
    const c = new Array(legend.names.length).fill(0);
    for (let i = 0; i < data.ids.length; i++) c[legend.of(i)]++;
    return c;
  }, [data, legend]);

  // the canvas's backing store follows its CSS size
  useEffect(() => {
    const c = canvas.current;
    if (!c) return;
    const fit = () => {
      const dpr = window.devicePixelRatio || 1;
      c.width = Math.round(c.clientWidth * dpr);
      c.height = Math.round(c.clientHeight * dpr);
      renderer.current?.draw(viewRef.current);
    };
    const ro = new ResizeObserver(fit);
    ro.observe(c);
    try {
      renderer.current = new PointsRenderer(c);
    } catch (e) {
      setGlError(errorMessage(e));
    }
    fit();
    return () => {
      ro.disconnect();
      renderer.current?.dispose();
      renderer.current = null;
    };
  }, [data !== null]); // eslint-disable-line react-hooks/exhaustive-deps
  const viewRef = useRef(view);
  viewRef.current = view;

  // points and colours into the GPU buffers
  useEffect(() => {
    const r = renderer.current;
    if (!r || !data || !legend) return;
    const m = data.ids.length;
    const color = new Uint8Array(m * 4);
    for (let i = 0; i < m; i++) {
      const c = legend.colors[legend.of(i)];
      color[4 * i] = c[0];
      color[4 * i + 1] = c[1];
      color[4 * i + 2] = c[2];
      color[4 * i + 3] = 217;
    }
    const flags = new Uint8Array(m);
    for (let i = 0; i < m; i++) flags[i] = data.kind[i];
    if (selection) {
      for (let i = 0; i < m; i++) flags[i] |= 4;
      for (const i of selection.indices) flags[i] = data.kind[i] | 2;
    }
    r.setPoints(data.pos, color, flags);
    r.draw(viewRef.current);
  }, [data, legend, selection]);

  useEffect(() => renderer.current?.draw(view), [view]);

  const local = (e: { clientX: number; clientY: number }): [number, number] => {
    const c = canvas.current!;
    const b = c.getBoundingClientRect();
    return [e.clientX - b.left - c.clientLeft, e.clientY - b.top - c.clientTop]; // from the drawn area, inside the border
  };
  const size = () => [canvas.current!.clientWidth, canvas.current!.clientHeight] as const;

  const lookUp = useRef(0);
  const hoverAt = (px: number, py: number) => {
    if (!data || !index) return;
    const [w, h] = size();
    const [mx, my] = toMap(px, py, w, h, view);
    const radius = (2 * 8) / (Math.min(w, h) * view.scale); // 8 px
    const i = index.nearest(mx, my, radius);
    if (i < 0) return setHover(null);
    const at = toScreen(data.pos[2 * i], data.pos[2 * i + 1], w, h, view);
    setHover((old) => (old?.index === i ? { ...old, at } : { at, item: null, index: i }));
    const ticket = ++lookUp.current;
    mome()
      .getEmbeddingMapItems({ runId, indices: [data.ids[i]] })
      .then(([item]) => ticket === lookUp.current && setHover({ at, item, index: i }))
      .catch(() => undefined);
  };

  const finishLasso = async (poly: [number, number][]) => {
    if (!data || !index || poly.length < 3) return;
    const started = performance.now();
    const [w, h] = size();
    const mapPoly = new Float64Array(poly.length * 2);
    poly.forEach(([x, y], k) => {
      const [mx, my] = toMap(x, y, w, h, view);
      mapPoly[2 * k] = mx;
      mapPoly[2 * k + 1] = my;
    });
    const { indices } = await lassoSelect(index, mapPoly);
    setSelection({ indices, ms: performance.now() - started });
  };

  if (error) return <p className="empty">{error}</p>;
  return (
    <div className="whole-map" data-testid="whole-map" data-stage={data?.stage ?? 'none'}>
      <div className="row">
        <label>
          Colour by{' '}
          <select aria-label="Colour by" value={colorBy} onChange={(e) => setColorBy(e.target.value as ColorBy)}>
            <option value="rank">rank of the truth</option>
            <option value="split">split</option>
            <option value="kind">kind</option>
            <option value="label">label state</option>
          </select>
        </label>
        <button
          type="button"
          aria-pressed={lassoMode}
          className={lassoMode ? 'active' : ''}
          title="Draw a lasso (L; or Shift+drag)"
          onClick={() => setLassoMode((v) => !v)}
        >
          Lasso
        </button>
        <button type="button" onClick={() => setView(FIT)}>
          Fit
        </button>
        {data && (
          <span className="muted" data-testid="map-count">
            {fmtInt(data.ids.length)} of {fmtInt(data.total)} items
            {data.stage === 'first' ? ' (first map: landmarks; placing the rest…)' : ''}
            {data.seconds !== null && data.stage === 'full'
              ? ` · computed in ${data.seconds.toFixed(1)} s${data.cached ? ', read from the cache' : ''}`
              : ''}
          </span>
        )}
      </div>
      {job && (job.state === 'running' || job.state === 'queued') && (
        <div className="row">
          <ProgressBar value={job.progress} label={job.message ?? 'Computing the map'} />
          <span className="muted">{job.message}</span>
        </div>
      )}
      {legend && (
        <div className="row legend">
          {legend.names.map((n, k) => (
            <span key={n} style={{ color: `rgb(${legend.colors[k].join(',')})` }}>
              ● {n} <span className="muted num">{fmtInt(counts[k] ?? 0)}</span>
            </span>
          ))}
          <span className="muted">■ image ● caption</span>
        </div>
      )}
      {glError && <p className="empty">{glError}</p>}
      {!data && !glError && <p className="muted">Computing the map of every image and caption…</p>}
      <div className="whole-map-stage" hidden={!data}>
        <canvas
          ref={canvas}
          className="whole-map-canvas"
          tabIndex={0}
          aria-label="Map of every image and caption"
          onKeyDown={(e) => {
            if (e.key === 'l' || e.key === 'L') setLassoMode((v) => !v);
            if (e.key === 'Escape') setSelection(null);
          }}
          onMouseDown={(e) => {
            const [x, y] = local(e);
            const isLasso = lassoMode || e.shiftKey;
            drag.current = { x, y, view, moved: false, lasso: isLasso };
            if (isLasso) setLasso([[x, y]]);
          }}
          onMouseMove={(e) => {
            const [x, y] = local(e);
            const d = drag.current;
            if (!d) return hoverAt(x, y);
            if (Math.abs(x - d.x) + Math.abs(y - d.y) > 3) d.moved = true;
            if (d.lasso) return setLasso((l) => [...l, [x, y]]);
            const [w, h] = size();
            const k = 2 / Math.min(w, h); // px to normalised units (the shorter side spans 2)
            setView({ ...d.view, tx: d.view.tx + (x - d.x) * k, ty: d.view.ty - (y - d.y) * k });
          }}
          onMouseUp={() => {
            const d = drag.current;
            drag.current = null;
            if (d?.lasso) {
              const poly = lassoRef.current;
              setLasso([]);
              void finishLasso(poly);
            } else if (d && !d.moved && hover?.item) openItem({ runId, kind: hover.item.kind, key: hover.item.key });
          }}
          onMouseLeave={() => setHover(null)}
          onWheel={(e) => {
            const [x, y] = local(e);
            const [w, h] = size();
            const [mx, my] = toMap(x, y, w, h, view);
            const scale = Math.min(400, Math.max(0.5, view.scale * Math.exp(-e.deltaY * 0.0015)));
            // keep the point under the pointer still
            setView({ scale, tx: view.tx + mx * (view.scale - scale), ty: view.ty + my * (view.scale - scale) });
          }}
        />
        {lasso.length > 1 && (
          <svg className="whole-map-overlay">
            <polyline points={lasso.map((p) => p.join(',')).join(' ')} />
          </svg>
        )}
        {hover && <div className="map-marker" style={{ left: hover.at[0] + 1, top: hover.at[1] + 1 }} />}
        {hover && (
          <div className="map-hover" style={{ left: hover.at[0] + 12, top: hover.at[1] + 12 }} data-testid="map-hover">
            {hover.item ? (
              <>
                {hover.item.path && <img src={mediaUrl(hover.item.path, 256)} alt="" />}
                <div>
                  <strong>
                    {hover.item.kind} {hover.item.key}
                  </strong>{' '}
                  <span className="muted">
                    {hover.item.split} · rank {hover.item.rank === null ? '—' : hover.item.rank + 1}
                  </span>
                </div>
                <div>{hover.item.text}</div>
              </>
            ) : (
              <span className="muted">…</span>
            )}
          </div>
        )}
      </div>
      {selection && data && (
        <SelectionGrid
          runId={runId}
          ids={Array.from(selection.indices, (i) => data.ids[i])}
          ms={selection.ms}
          onClear={() => setSelection(null)}
        />
      )}
    </div>
  );
}
