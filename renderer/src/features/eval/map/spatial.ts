// Finding points on the map without scanning all of them: a uniform grid over the normalised positions (one
// counting sort, so cells are ranges of one index array) for the nearest point under the pointer, and the
// lasso's point-in-polygon over the cells the polygon's box covers, in slices that yield between them so no
// main-thread task runs long.

export class GridIndex {
  readonly cells: number;
  /** Point indices sorted by cell; cell c holds order[start[c] .. start[c + 1]). */
  readonly order: Uint32Array;
  readonly start: Uint32Array;

  /** `pos` [n, 2] in [-1, 1]; about `perCell` points per cell on average. */
  constructor(
    readonly pos: Float32Array,
    perCell = 16,
  ) {
    const n = pos.length / 2;
    this.cells = Math.max(1, Math.min(2048, Math.round(Math.sqrt(n / perCell))));
    const g = this.cells;
    const cellOf = new Uint32Array(n);
    const start = new Uint32Array(g * g + 1);
    for (let i = 0; i < n; i++) {
      const c = this.cell(pos[2 * i], pos[2 * i + 1]);
      cellOf[i] = c;
      start[c + 1]++;
    }
    for (let c = 0; c < g * g; c++) start[c + 1] += start[c];
    const fill = start.slice(0, g * g);
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[fill[cellOf[i]]++] = i;
    this.order = order;
    this.start = start;
  }

  private col(v: number): number {
    return Math.min(this.cells - 1, Math.max(0, Math.floor(((v + 1) / 2) * this.cells)));
  }

  private cell(x: number, y: number): number {
    return this.col(y) * this.cells + this.col(x);
  }

  /** The point nearest (x, y) within `radius` (map units), or -1. */
  nearest(x: number, y: number, radius: number): number {
    const { pos, cells: g } = this;
    const [c0, c1, r0, r1] = [this.col(x - radius), this.col(x + radius), this.col(y - radius), this.col(y + radius)];
    let best = -1;
    let bd = radius * radius;
    for (let r = r0; r <= r1; r++)
      for (let c = c0; c <= c1; c++) {
        const cell = r * g + c;
        for (let s = this.start[cell]; s < this.start[cell + 1]; s++) {
          const i = this.order[s];
          const d = (pos[2 * i] - x) ** 2 + (pos[2 * i + 1] - y) ** 2;
          if (d <= bd) {
            bd = d;
            best = i;
          }
        }
      }
    return best;
  }

  /** Cells (as index ranges into `order`) that the box [x0, x1] × [y0, y1] touches. */
  ranges(x0: number, x1: number, y0: number, y1: number): [number, number][] {
    const out: [number, number][] = [];
    for (let r = this.col(y0); r <= this.col(y1); r++) {
      const a = this.start[r * this.cells + this.col(x0)];
      const b = this.start[r * this.cells + this.col(x1) + 1];
      if (b > a) out.push([a, b]); // a row's cells are contiguous in `order`
    }
    return out;
  }
}

/** Even-odd rule over the polygon's vertices [m, 2]. */
export function inPolygon(poly: Float64Array, x: number, y: number): boolean {
  let ins = false;
  const m = poly.length / 2;
  for (let i = 0, j = m - 1; i < m; j = i++) {
    const xi = poly[2 * i];
    const yi = poly[2 * i + 1];
    const xj = poly[2 * j];
    const yj = poly[2 * j + 1];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) ins = !ins;
  }
  return ins;
}

/** Lets the event loop run (input, paint) before the next slice of work. */
export const yieldToEventLoop = () =>
  new Promise<void>((resolve) => {
    const ch = new MessageChannel(); // unlike setTimeout, not clamped to 4 ms after a few nested calls
    ch.port1.onmessage = () => {
      ch.port1.close(); // an open port would keep a Node process (the bench) alive
      resolve();
    };
    ch.port2.postMessage(null);
  });

export interface LassoResult {
  /** Indices of the points inside, in increasing order. */
  indices: Uint32Array;
  /** The longest uninterrupted slice of work, in ms. */
  longestSliceMs: number;
}

/**
 * The points of the index inside the polygon (map coordinates, [m, 2]), tested only in the grid rows of its
 * box and in slices of about `slice` points, yielding to the event loop between slices.
 */
export async function lassoSelect(index: GridIndex, poly: Float64Array, slice = 60_000): Promise<LassoResult> {
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let i = 0; i < poly.length; i += 2) {
    x0 = Math.min(x0, poly[i]);
    x1 = Math.max(x1, poly[i]);
    y0 = Math.min(y0, poly[i + 1]);
    y1 = Math.max(y1, poly[i + 1]);
  }
  const { pos, order } = index;
  const hits = new Uint32Array(pos.length / 2);
  let found = 0;
  let longest = 0;
  let t = performance.now();
  let since = 0;
  for (const [a, b] of index.ranges(x0, x1, y0, y1))
    for (let s = a; s < b; s++) {
      const i = order[s];
      const x = pos[2 * i];
      const y = pos[2 * i + 1];
      if (x >= x0 && x <= x1 && y >= y0 && y <= y1 && inPolygon(poly, x, y)) hits[found++] = i;
      if (++since === slice) {
        longest = Math.max(longest, performance.now() - t);
        await yieldToEventLoop();
        t = performance.now();
        since = 0;
      }
    }
  const indices = hits.slice(0, found).sort();
  longest = Math.max(longest, performance.now() - t);
  return { indices, longestSliceMs: longest };
}
