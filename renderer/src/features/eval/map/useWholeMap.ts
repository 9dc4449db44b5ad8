// The whole map of a run as typed arrays: asks the backend for what it has (a finished map is read back at once),
// starts the job that computes it otherwise, and reads the points again when the first map (the landmarks) and
// the full map are ready.
import { useEffect, useRef, useState } from 'react';
import type { EmbeddingMapPoints } from '../../../../../electron/api/schemas';
import { errorMessage, mome } from '../../../api/mome';
import { useJobs } from '../../jobs/store';
import { useLabels } from '../../labels/store';
import { yieldToEventLoop } from './spatial';

export interface MapData {
  stage: EmbeddingMapPoints['stage'];
  method: string;
  total: number;
  seconds: number | null;
  cached: boolean;
  splits: string[];
  /** Indices (into the run's points) of the points placed so far; the columns below are in this order. */
  ids: Uint32Array;
  /** Positions normalised to [-1, 1] (the larger side of the map's box). */
  pos: Float32Array;
  kind: Uint8Array;
  split: Uint8Array;
  rank: Int32Array;
  label: Uint8Array;
}

/** Base64 to bytes, a megabyte of text per task (atob of 14 MB at once would hold the main thread). */
async function decode(s: string): Promise<Uint8Array> {
  const out = new Uint8Array(Math.floor((s.length * 3) / 4) - (s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0));
  const step = 1 << 20; // a multiple of 4: every piece decodes on its own
  for (let at = 0, o = 0; at < s.length; at += step) {
    const bin = atob(s.slice(at, at + step));
    for (let i = 0; i < bin.length; i++) out[o++] = bin.charCodeAt(i);
    if (at + step < s.length) await yieldToEventLoop();
  }
  return out;
}

/**
 * Keeps the placed points (a first map has NaN for the others) and scales them into [-1, 1]; decoded in slices,
 * so 740K points never hold the main thread for long.
 */
export async function toMapData(p: EmbeddingMapPoints): Promise<MapData> {
  const x = new Float32Array((await decode(p.x)).buffer);
  const y = new Float32Array((await decode(p.y)).buffer);
  const kind = await decode(p.kind);
  const split = await decode(p.split);
  const label = await decode(p.label);
  const rank = new Int32Array((await decode(p.rank)).buffer);
  await yieldToEventLoop();
  let m = 0;
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let i = 0; i < p.n; i++)
    if (Number.isFinite(x[i]) && Number.isFinite(y[i])) {
      m++;
      x0 = Math.min(x0, x[i]);
      x1 = Math.max(x1, x[i]);
      y0 = Math.min(y0, y[i]);
      y1 = Math.max(y1, y[i]);
    }
  const half = Math.max(x1 - x0, y1 - y0, 1e-9) / 2 / 0.96;
  const [cx, cy] = [(x0 + x1) / 2, (y0 + y1) / 2];
  const ids = new Uint32Array(m);
  const pos = new Float32Array(2 * m);
  const take = <T extends Uint8Array | Int32Array>(a: T, out: T) => {
    for (let j = 0; j < m; j++) out[j] = a[ids[j]];
    return out;
  };
  for (let i = 0, j = 0; i < p.n; i++)
    if (Number.isFinite(x[i]) && Number.isFinite(y[i])) {
      ids[j] = i;
      pos[2 * j] = (x[i] - cx) / half;
      pos[2 * j + 1] = (y[i] - cy) / half;
      j++;
    }
  return {
    stage: p.stage,
    method: p.method,
    total: p.total,
    seconds: p.seconds,
    cached: p.cached,
    splits: p.splits,
    ids,
    pos,
    kind: take(kind, new Uint8Array(m)),
    split: take(split, new Uint8Array(m)),
    rank: take(rank, new Int32Array(m)),
    label: take(label, new Uint8Array(m)),
  };
}

export function useWholeMap(runId: number) {
  const [data, setData] = useState<MapData | null>(null);
  const [jobId, setJobId] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const job = useJobs((s) => (jobId ? s.byId[jobId] : undefined));

  useEffect(() => {
    let stale = false;
    setData(null);
    setError(null);
    setJobId(null);
    const api = mome();
    void (async () => {
      try {
        const now = await api.getEmbeddingMapPoints({ runId });
        if (stale) return;
        if (now.stage === 'full') return setData(await toMapData(now));
        const j = await api.startEmbeddingMap({ runId });
        if (!stale) setJobId(j.id);
      } catch (e) {
        if (!stale) setError(errorMessage(e));
      }
    })();
    return () => {
      stale = true;
    };
  }, [runId]);

  // while the job runs: read the points when a stage is reached (polled: the job's progress says when)
  useEffect(() => {
    if (!jobId) return;
    let stale = false;
    let shown: MapData['stage'] = 'none';
    const poll = async () => {
      try {
        const j = await mome().getJob({ id: jobId });
        const p = await mome().getEmbeddingMapPoints({ runId });
        if (stale) return;
        if (p.stage !== shown && p.stage !== 'none') {
          shown = p.stage;
          const d = await toMapData(p);
          if (stale) return;
          setData(d);
        }
        if (j.state === 'failed' || j.state === 'cancelled' || j.state === 'interrupted')
          return setError(j.error ?? `The map's job was ${j.state}.`);
        if (p.stage !== 'full') timer = setTimeout(poll, 700);
      } catch (e) {
        if (!stale) setError(errorMessage(e));
      }
    };
    let timer = setTimeout(poll, 300);
    return () => {
      stale = true;
      clearTimeout(timer);
    };
  }, [jobId, runId]);

  // label edits (here or anywhere) change the label-state column: read it again, once the edits pause
  const labels = useLabels((s) => s.version);
  const full = data?.stage === 'full';
  const seen = useRef<{ runId: number; labels: number } | null>(null);
  useEffect(() => {
    if (!full) return;
    if (seen.current?.runId !== runId) seen.current = { runId, labels }; // the map just read is current
    if (seen.current.labels === labels) return;
    seen.current.labels = labels;
    let stale = false;
    const timer = setTimeout(async () => {
      try {
        const p = await mome().getEmbeddingMapPoints({ runId });
        const d = await toMapData(p);
        if (!stale) setData(d);
      } catch (e) {
        if (!stale) setError(errorMessage(e));
      }
    }, 800);
    return () => {
      stale = true;
      clearTimeout(timer);
    };
  }, [labels, full, runId]);

  return { data, job, error };
}
