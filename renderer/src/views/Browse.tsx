import { useEffect, useRef, useState } from 'react';
import type { DatasetStats, ImageDetail, ImageItem, Nlvr2Example } from '../../../electron/api/schemas';
import { mediaUrl, mome } from '../api/mome';
import { fmtInt } from '../format';
import { itemAt, useBrowse } from '../stores/browse';
import { useDatasets } from '../stores/datasets';
import { CaptionLabels, Nlvr2Labels } from '../components/LabelActions';

const CELL_W = 200;
const CELL_H = 210;
const ROW_H = 150;

function Thumb({ path, alt, size = 192 }: { path: string; alt: string; size?: number }) {
  const [failed, setFailed] = useState(false);
  if (failed) return <div className="thumb missing">image unavailable</div>;
  return (
    <img
      className="thumb"
      src={mediaUrl(path, size <= 256 ? 256 : 512)}
      alt={alt}
      loading={size <= 256 ? 'lazy' : 'eager'}
      onError={() => setFailed(true)}
    />
  );
}

function Stats({ datasetId }: { datasetId: number }) {
  const [stats, setStats] = useState<DatasetStats | null>(null);
  useEffect(() => {
    mome()
      .getDatasetStats({ datasetId })
      .then(setStats)
      .catch(() => setStats(null));
  }, [datasetId]);
  if (!stats) return null;
  const max = Math.max(1, ...stats.lengthHistogram.counts);
  return (
    <div className="stats" data-testid="dataset-stats">
      <span>
        {Object.entries(stats.splits)
          .map(
            ([s, c]) =>
              `${s}: ${fmtInt(c.images ?? c.examples ?? 0)}${c.captions ? ` / ${fmtInt(c.captions)} captions` : ''}`,
          )
          .join(' · ')}
        {stats.missingImages ? ` · ${fmtInt(stats.missingImages)} missing files` : ''}
      </span>
      <span className="histogram" title={`length in words, bins of ${stats.lengthHistogram.binWidth}`}>
        {stats.lengthHistogram.counts.map((c, i) => (
          <span
            key={i}
            className="bar"
            style={{ height: `${(24 * c) / max}px` }}
            title={`${i * stats.lengthHistogram.binWidth}–${(i + 1) * stats.lengthHistogram.binWidth - 1} words: ${fmtInt(c)}`}
          />
        ))}
      </span>
    </div>
  );
}

function ItemPanel({ item, onClose }: { item: ImageDetail | Nlvr2Example; onClose(): void }) {
  return (
    <aside className="panel" aria-label="item details">
      <button type="button" className="link close" onClick={onClose} aria-label="close panel">
        Esc ×
      </button>
      {'identifier' in item ? (
        <>
          <div className="pair">
            <Thumb path={item.leftPath} alt="left image" size={512} />
            <Thumb path={item.rightPath} alt="right image" size={512} />
          </div>
          <Nlvr2Labels item={item} />
          <dl className="facts">
            <dt>Identifier</dt>
            <dd>{item.identifier}</dd>
            <dt>Split</dt>
            <dd>{item.split}</dd>
            <dt>Flags</dt>
            <dd>{item.flags.join(', ') || '—'}</dd>
          </dl>
        </>
      ) : (
        <>
          <Thumb path={item.path} alt={item.file} size={512} />
          <CaptionLabels item={item} />
          <dl className="facts">
            <dt>imgid</dt>
            <dd>{item.sourceId}</dd>
            {item.cocoid !== null && (
              <>
                <dt>cocoid</dt>
                <dd>{item.cocoid}</dd>
              </>
            )}
            <dt>Split</dt>
            <dd>{item.split}</dd>
            <dt>File</dt>
            <dd className="path">{item.path}</dd>
            <dt>Flags</dt>
            <dd>{item.flags.join(', ') || '—'}</dd>
          </dl>
        </>
      )}
    </aside>
  );
}

export function BrowseView() {
  const datasets = useDatasets((s) => s.list);
  const selectedId = useDatasets((s) => s.selectedId);
  const loadDatasets = useDatasets((s) => s.load);
  const b = useBrowse();
  const scroller = useRef<HTMLDivElement>(null);
  const searchRef = useRef<HTMLInputElement>(null);
  const [viewport, setViewport] = useState({ top: 0, width: 800, height: 600 });
  const dataset = datasets.find((d) => d.id === selectedId) ?? null;
  const isNlvr2 = dataset?.kind === 'nlvr2';

  useEffect(() => {
    void loadDatasets();
  }, [loadDatasets]);
  useEffect(() => {
    if (dataset && (b.datasetId !== dataset.id || b.kind !== (isNlvr2 ? 'nlvr2' : 'images'))) {
      b.setQuery({ datasetId: dataset.id, kind: isNlvr2 ? 'nlvr2' : 'images', split: '', search: '' });
    }
  }, [dataset, isNlvr2, b]);
  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const measure = () => setViewport({ top: el.scrollTop, width: el.clientWidth, height: el.clientHeight });
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, [dataset]);

  const cols = isNlvr2 ? 1 : Math.max(1, Math.floor(viewport.width / CELL_W));
  const rowH = isNlvr2 ? ROW_H : CELL_H;
  const rows = Math.ceil(b.total / cols);
  const first = Math.max(0, Math.floor(viewport.top / rowH) - 2);
  const last = Math.min(rows, Math.ceil((viewport.top + viewport.height) / rowH) + 2);
  const { ensure } = b;
  // fetch the pages on screen once scrolling pauses, so a fast scroll does not queue every page it passes
  useEffect(() => {
    const t = setTimeout(() => {
      for (let r = first; r < last; r += Math.max(1, Math.floor(200 / cols))) void ensure(r * cols);
      void ensure(Math.max(0, last * cols - 1));
    }, 60);
    return () => clearTimeout(t);
  }, [first, last, cols, ensure, b.generation]);

  // keyboard: arrows move, Enter opens, Esc closes, / focuses search
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const typing = (e.target as HTMLElement).tagName === 'INPUT' || (e.target as HTMLElement).tagName === 'SELECT';
      if (e.key === '/' && !typing) {
        e.preventDefault();
        searchRef.current?.focus();
        return;
      }
      if (e.key === 'Escape') return b.close();
      if (typing) return;
      const step: Record<string, number> = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: cols, ArrowUp: -cols };
      if (step[e.key] !== undefined) {
        e.preventDefault();
        const to = Math.max(0, Math.min(b.total - 1, b.cursor + step[e.key]));
        b.move(to);
        const el = scroller.current;
        const y = Math.floor(to / cols) * rowH;
        if (el && (y < el.scrollTop || y + rowH > el.scrollTop + el.clientHeight))
          el.scrollTop = y - el.clientHeight / 2;
        if (b.open) void b.openAt(to);
      } else if (e.key === 'Enter') void b.openAt(b.cursor);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [b, cols, rowH]);

  if (!dataset)
    return (
      <section className="view">
        <p className="empty">No dataset to browse yet. Import one in Datasets.</p>
      </section>
    );

  const cells = [];
  for (let r = first; r < last; r++) {
    for (let c = 0; c < cols; c++) {
      const index = r * cols + c;
      if (index >= b.total) break;
      const item = itemAt(b, index);
      const style = { top: r * rowH, left: c * CELL_W, width: isNlvr2 ? '100%' : CELL_W - 8, height: rowH - 8 };
      cells.push(
        <div
          key={index}
          className={`cell${index === b.cursor ? ' cursor' : ''}`}
          style={style}
          data-index={index}
          onClick={() => void b.openAt(index)}
        >
          {!item ? (
            <div className="thumb loading" />
          ) : isNlvr2 ? (
            <div className="pair-row">
              <Thumb path={(item as Nlvr2Example).leftPath} alt="left" />
              <Thumb path={(item as Nlvr2Example).rightPath} alt="right" />
              <div>
                <p>{(item as Nlvr2Example).sentence}</p>
                <p className="muted">
                  {(item as Nlvr2Example).identifier} ·{' '}
                  {(item as Nlvr2Example).label === null
                    ? 'unlabeled'
                    : (item as Nlvr2Example).label
                      ? 'True'
                      : 'False'}
                </p>
              </div>
            </div>
          ) : (
            <>
              <Thumb path={(item as ImageItem).path} alt={(item as ImageItem).file} />
              <p className="caption" title={(item as ImageItem).firstCaption ?? ''}>
                {(item as ImageItem).firstCaption ?? '(no caption)'}
              </p>
            </>
          )}
        </div>,
      );
    }
  }

  return (
    <section className="view browse">
      <div className="row">
        <select
          aria-label="Dataset"
          value={dataset.id}
          onChange={(e) => useDatasets.getState().select(Number(e.target.value))}
        >
          {datasets.map((d) => (
            <option key={d.id} value={d.id}>
              {d.name} ({d.kind})
            </option>
          ))}
        </select>
        <select aria-label="Split" value={b.split} onChange={(e) => b.setQuery({ split: e.target.value })}>
          <option value="">All splits</option>
          {Object.keys(dataset.splits).map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
        <input
          ref={searchRef}
          aria-label="Search captions"
          placeholder="Search captions ( / )"
          defaultValue={b.search}
          onKeyDown={(e) => e.key === 'Enter' && b.setQuery({ search: e.currentTarget.value })}
        />
        {!isNlvr2 && (
          <select
            aria-label="Sort"
            value={b.sort}
            onChange={(e) => b.setQuery({ sort: e.target.value as typeof b.sort })}
          >
            <option value="id">Sort: file order</option>
            <option value="file">Sort: file name</option>
            <option value="captions">Sort: most captions</option>
            <option value="flags">Sort: flagged first</option>
          </select>
        )}
        <span className="muted num" data-testid="browse-total">
          {fmtInt(b.total)} {isNlvr2 ? 'examples' : 'images'}
        </span>
      </div>
      <Stats datasetId={dataset.id} />
      <div className="browse-body">
        <div
          className="grid-scroller"
          ref={scroller}
          onScroll={(e) => {
            const top = e.currentTarget.scrollTop; // read now: the event's target is gone when the updater runs
            setViewport((v) => ({ ...v, top }));
          }}
          data-testid="grid"
        >
          <div className="grid-inner" style={{ height: rows * rowH }}>
            {cells}
          </div>
        </div>
        {b.open && <ItemPanel item={b.open} onClose={b.close} />}
      </div>
    </section>
  );
}
