// Bundled (esbuild) into a blank Chromium page by bench/map.ts: the renderer's own map code (decode, grid index,
// WebGL points, lasso) run on the main thread of a real browser, with long tasks observed there.
import type { EmbeddingMapPoints } from '../electron/api/schemas';
import { PointsRenderer } from '../renderer/src/features/eval/map/gl-points';
import { GridIndex, inPolygon, lassoSelect } from '../renderer/src/features/eval/map/spatial';
import { toMapData, type MapData } from '../renderer/src/features/eval/map/useWholeMap';

const longTasks: number[] = [];
new PerformanceObserver((list) => list.getEntries().forEach((e) => longTasks.push(e.duration))).observe({
  type: 'longtask',
});

let data: MapData;
let index: GridIndex;
let renderer: PointsRenderer;

const nextFrame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));

(window as any).mapBench = {
  /** Decode the columns, index them, upload and draw: the work when the map arrives. */
  async load(p: EmbeddingMapPoints) {
    await nextFrame(); // run in tasks of the page's own (work inside the evaluate call is no task to observe)
    longTasks.length = 0;
    const t0 = performance.now();
    data = await toMapData(p);
    const tDecode = performance.now();
    await nextFrame();
    const tIndex0 = performance.now();
    index = new GridIndex(data.pos);
    const tIndex = performance.now();
    await nextFrame();
    const canvas = document.createElement('canvas');
    canvas.width = 1100;
    canvas.height = 550;
    canvas.style.width = '1100px';
    canvas.style.height = '550px';
    document.body.append(canvas);
    const tDraw0 = performance.now();
    renderer = new PointsRenderer(canvas);
    const m = data.ids.length;
    const color = new Uint8Array(m * 4).fill(200);
    renderer.setPoints(data.pos, color, data.kind);
    renderer.draw({ scale: 1, tx: 0, ty: 0 });
    const tDraw = performance.now();
    await renderer.whenDrawn(); // every slice drawn, over as many frames as it took
    const tDrawn = performance.now();
    await nextFrame();
    const gl = canvas.getContext('webgl2')!;
    return {
      points: m,
      decodeMs: tDecode - t0,
      indexMs: tIndex - tIndex0,
      uploadAndFirstSliceMs: tDraw - tDraw0,
      wholeMapDrawnMs: tDrawn - tDraw0,
      renderer: gl.getParameter(gl.RENDERER),
      longTasks: longTasks.slice(),
    };
  },
  async lasso(poly: number[]) {
    await nextFrame();
    longTasks.length = 0;
    const t0 = performance.now();
    const { indices, longestSliceMs } = await lassoSelect(index, Float64Array.from(poly));
    const ms = performance.now() - t0;
    const selectTasks = longTasks.splice(0);
    // then, as the view does: the selection highlighted, the rest dimmed, the map drawn again
    const flags = new Uint8Array(data.ids.length);
    for (let i = 0; i < flags.length; i++) flags[i] = data.kind[i] | 4;
    for (const i of indices) flags[i] = data.kind[i] | 2;
    renderer.setFlags(flags);
    renderer.draw({ scale: 1, tx: 0, ty: 0 });
    await renderer.whenDrawn();
    const redrawnMs = performance.now() - t0;
    await nextFrame();
    return {
      selected: indices.length,
      ms,
      redrawnMs,
      longestSliceMs,
      longTasks: selectTasks,
      redrawLongTasks: longTasks.slice(),
    };
  },
  /** The baseline: one pass over every point, no grid, no slices. */
  async linearScan(poly: number[]) {
    await nextFrame();
    const P = Float64Array.from(poly);
    const t0 = performance.now();
    let found = 0;
    for (let i = 0; i < data.ids.length; i++) if (inPolygon(P, data.pos[2 * i], data.pos[2 * i + 1])) found++;
    return { selected: found, ms: performance.now() - t0 };
  },
};
