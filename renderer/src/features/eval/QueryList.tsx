// The queries of a run, worst first: by ground-truth rank or by likelihood of a label error, optionally only
// those missed at R@1 / R@5, and filtered by text. N / P move to the next / previous query.
import { useCallback, useEffect, useState } from 'react';
import type { EvalItem } from '../../../../electron/api/schemas';
import { mome } from '../../api/mome';
import { fmtInt } from '../../format';
import { useEval, type EvalTask } from './store';
import { toastError } from '../../stores/toasts';
import { notAShortcut } from '../../keys';

const PAGE = 200;

function useQueries(runId: number, task: EvalTask) {
  const filter = useEval((s) => s.filter[task]);
  const [items, setItems] = useState<EvalItem[]>([]);
  const [total, setTotal] = useState(0);
  const load = useCallback(
    async (offset: number) => {
      const page = await mome().getEvalItems({
        runId,
        kind: filter.kind,
        order: filter.order,
        minRank: filter.minRank,
        search: filter.search.trim() || undefined,
        offset,
        limit: PAGE,
      });
      setTotal(page.total);
      setItems((cur) => (offset === 0 ? page.items : [...cur, ...page.items]));
    },
    [runId, filter],
  );
  useEffect(() => {
    const t = setTimeout(() => load(0).catch((e) => toastError(e)), 150);
    return () => clearTimeout(t);
  }, [load]);
  return { items, total, more: () => load(items.length).catch(() => undefined) };
}

const rankText = (it: EvalItem) =>
  it.rank === null ? '—' : it.kind === 'nlvr2' ? (it.rank === 0 ? 'right' : 'wrong') : `#${fmtInt(it.rank + 1)}`;

export function QueryList({ runId, task }: { runId: number; task: EvalTask }) {
  const filter = useEval((s) => s.filter[task]);
  const setFilter = useEval((s) => s.setFilter);
  const focus = useEval((s) => s.focus);
  const focusItem = useEval((s) => s.focusItem);
  const { items, total, more } = useQueries(runId, task);
  const at = focus && focus.runId === runId ? items.findIndex((x) => x.kind === focus.kind && x.key === focus.key) : -1;

  // the first query opens by itself when nothing (or an item of another list) is open
  useEffect(() => {
    const f = useEval.getState().focus;
    const shown = f && f.runId === runId && f.kind === filter.kind;
    if (!shown && items[0]) focusItem({ runId, kind: items[0].kind, key: items[0].key });
  }, [items, runId, filter.kind, focusItem]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (notAShortcut(e)) return;
      const k = e.key.toLowerCase();
      if (k !== 'n' && k !== 'p') return;
      const next = items[Math.max(0, Math.min(items.length - 1, at + (k === 'n' ? 1 : -1)))];
      if (next) focusItem({ runId, kind: next.kind, key: next.key });
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [items, at, runId, focusItem]);

  return (
    <div className="query-list" data-testid="query-list">
      <div className="row">
        {task === 'retrieval' && (
          <select
            aria-label="Query kind"
            value={filter.kind}
            onChange={(e) => setFilter(task, { kind: e.target.value as 'caption' | 'image' })}
          >
            <option value="caption">Captions (image retrieval)</option>
            <option value="image">Images (text retrieval)</option>
          </select>
        )}
        <select
          aria-label="Order"
          value={filter.order}
          onChange={(e) => setFilter(task, { order: e.target.value as 'rank' | 'mistakenness' })}
        >
          <option value="rank">{task === 'nlvr2' ? 'Wrong first' : 'Worst rank first'}</option>
          <option value="mistakenness">{task === 'nlvr2' ? 'Most confident first' : 'Largest margin first'}</option>
        </select>
        <select
          aria-label="Filter"
          value={filter.minRank ?? 0}
          onChange={(e) => setFilter(task, { minRank: Number(e.target.value) || undefined })}
        >
          <option value={0}>All</option>
          <option value={1}>{task === 'nlvr2' ? 'Wrong predictions' : 'Missed at R@1'}</option>
          {task === 'retrieval' && <option value={5}>Missed at R@5</option>}
          {task === 'retrieval' && <option value={10}>Missed at R@10</option>}
        </select>
        <input
          type="search"
          aria-label="Search queries"
          placeholder="Search text or id"
          value={filter.search}
          onChange={(e) => setFilter(task, { search: e.target.value })}
        />
        <span className="muted">{fmtInt(total)}</span>
      </div>
      <ul className="queries">
        {items.map((it, j) => (
          <li key={`${it.kind}:${it.key}`} className={j === at ? 'selected' : ''}>
            <button type="button" className="link" onClick={() => focusItem({ runId, kind: it.kind, key: it.key })}>
              <span className={`rank ${it.rank ? 'miss' : 'hit'}`}>{rankText(it)}</span>
              <span className="text">{it.text ?? it.key}</span>
              <span className="num muted" title={task === 'nlvr2' ? 'probability of the other label' : 'score margin'}>
                {(task === 'nlvr2' ? it.mistakenness : -it.mistakenness).toFixed(3)}
              </span>
            </button>
          </li>
        ))}
        {items.length < total && (
          <li>
            <button type="button" onClick={() => void more()}>
              Show more ({fmtInt(total - items.length)} left)
            </button>
          </li>
        )}
      </ul>
    </div>
  );
}
