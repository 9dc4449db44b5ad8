import { useEffect, useRef, useState } from 'react';
import type { DatasetStats, ImageDetail, ImageItem, Nlvr2Example } from '../../../../electron/api/schemas';
import { mediaUrl, mome } from '../../api/mome';
import { fmtInt } from '../../format';
import { itemAt, useBrowse } from './store';
import { useDatasets } from '../datasets/store';
import { CaptionLabels, Nlvr2Labels } from '../labels/LabelActions';
import { useLabelState } from '../labels/useLabelState';
import { BulkActions } from './BulkActions';
import { SearchPanel } from '../search/SearchPanel';

const CELL_W = 200;
const CELL_H = 210;
const MAX_SCROLL_PX = 15_000_000;
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

/** The item under the cursor at full resolution (Space or a click closes it; arrows keep moving under it). */
function FullImage({ item, onClose }: { item: ImageItem | Nlvr2Example; onClose(): void }) {
  const paths = 'identifier' in item ? [item.leftPath, item.rightPath] : [item.path];
  const fit = { maxWidth: `${90 / paths.length}vw`, maxHeight: '85vh', objectFit: 'contain' as const };
  return (
    <div className="overlay" role="dialog" aria-label="full image" onClick={onClose}>
      <div className="row" style={{ flexWrap: 'nowrap' }}>
        {paths.map((p) => (
          <img key={p} src={mediaUrl(p)} alt={p} style={fit} />
        ))}
      </div>
    </div>
  );
}

/** One more published field of a record, as read from the annotation file. */
function Fact({ name, value }: { name: string; value: unknown }) {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return (
    <>
      <dt>{name}</dt>
      <dd className={/^https?:/.test(text) ? 'path' : undefined}>{text}</dd>
    </>
  );
}

function ItemPanel({ item, onClose, onNext }: { item: ImageDetail | Nlvr2Example; onClose(): void; onNext(): void }) {
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
          <Nlvr2Labels item={item} onLabeled={onNext} />
          <dl className="facts">
            <dt>Identifier</dt>
            <dd>{item.identifier}</dd>
            <dt>Split</dt>
            <dd>{item.split}</dd>
            <dt>Flags</dt>
            <dd>{item.flags.join(', ') || '—'}</dd>
            <dt>Left image</dt>
            <dd className="path">{item.leftPath}</dd>
            <dt>Right image</dt>
            <dd className="path">{item.rightPath}</dd>
            {Object.entries(item.extra ?? {}).map(([k, v]) => (
              <Fact key={k} name={k} value={v} />
            ))}
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

const flagTag = (flag: unknown) =>
  typeof flag === 'string' ? <span className={`tag tag-${flag}`}>{flag}</span> : null;

/** An NLVR2 row's label as it is now (a correction shows beside the original) and its flag. */
function Nlvr2CellLabel({ item, labels }: { item: Nlvr2Example; labels: Record<string, unknown> }) {
  const k = `nlvr2|${item.identifier}|`;
  const label = (k + 'label' in labels ? labels[k + 'label'] : item.label) as boolean | null;
  const name = (v: boolean | null) => (v === null ? 'unlabeled' : v ? 'True' : 'False');
  return (
    <p className="muted">
      {item.identifier} · <span data-testid="cell-label">{name(label)}</span>
      {label !== item.label && <span className="tag">corrected (was {name(item.label)})</span>}
      {flagTag(labels[k + 'flag'])}
    </p>
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
  const [peek, setPeek] = useState(false); // Space: the item under the cursor at full size
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
  // a refresh re-reads the dataset's rows (new row ids): the pages fetched before are gone
  const refreshedAt = dataset?.refreshedAt ?? null;
  const seenRefresh = useRef(refreshedAt);
  useEffect(() => {
    if (refreshedAt === seenRefresh.current) return;
    seenRefresh.current = refreshedAt;
    useBrowse.getState().setQuery({});
  }, [refreshedAt]);
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
  // Browsers cap an element's height (Chromium near 33.5M px, Firefox 17.9M): a taller grid (a million images)
  // gets a scroll range of at most MAX_SCROLL_PX, each scrolled pixel moving the rows by `scale` pixels.
  const fullH = rows * rowH;
  const scrollH = Math.min(fullH, MAX_SCROLL_PX);
  const scale = scrollH > viewport.height ? Math.max(1, (fullH - viewport.height) / (scrollH - viewport.height)) : 1;
  const top = viewport.top * scale; // the grid position at the top of the viewport
  const shift = top - viewport.top; // drawn rows are moved up by this much
  const first = Math.max(0, Math.floor(top / rowH) - 2);
  const last = Math.min(rows, Math.ceil((top + viewport.height) / rowH) + 2);
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
      if (e.key === 'Escape') {
        if (peek) return setPeek(false);
        return b.open ? b.close() : b.clearSelection();
      }
      if (typing) return;
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === 'x') return b.toggle(b.cursor);
      if (e.key === ' ') {
        e.preventDefault(); // not a page scroll
        return setPeek((p) => !p);
      }
      if (e.key === 'n' || e.key === 'p') return goTo(b.cursor + (e.key === 'n' ? 1 : -1)); // next / previous item
      const step: Record<string, number> = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: cols, ArrowUp: -cols };
      if (step[e.key] !== undefined) {
        e.preventDefault();
        const to = Math.max(0, Math.min(b.total - 1, b.cursor + step[e.key]));
        goTo(to);
      } else if (e.key === 'Enter') void b.openAt(b.cursor);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  /** Moves the cursor (scrolling it into view); an open item panel follows it. */
  function goTo(to: number) {
    to = Math.max(0, Math.min(b.total - 1, to));
    b.move(to);
    const el = scroller.current;
    const y = Math.floor(to / cols) * rowH;
    if (el && (y < top || y + rowH > top + el.clientHeight)) el.scrollTop = (y - el.clientHeight / 2) / scale;
    if (b.open) void b.ensure(to).then(() => useBrowse.getState().openAt(to));
  }

  // the current labels of the items on screen, so a correction (here, in bulk, or in another window) shows
  const visible: { datasetId: number; kind: 'image' | 'nlvr2'; key: string }[] = [];
  for (let i = first * cols; i < Math.min(b.total, last * cols); i++) {
    const it = itemAt(b, i);
    if (it)
      visible.push(
        'identifier' in it
          ? { datasetId: it.datasetId, kind: 'nlvr2', key: it.identifier }
          : { datasetId: it.datasetId, kind: 'image', key: it.sourceId },
      );
  }
  const labels = useLabelState(visible);

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
      const style = { top: r * rowH - shift, left: c * CELL_W, width: isNlvr2 ? '100%' : CELL_W - 8, height: rowH - 8 };
      cells.push(
        <div
          key={index}
          className={`cell${index === b.cursor ? ' cursor' : ''}${b.selected[index] ? ' selected' : ''}`}
          style={b.selected[index] ? { ...style, boxShadow: 'inset 0 0 0 3px var(--accent)' } : style}
          data-index={index}
          aria-selected={Boolean(b.selected[index])}
          onMouseDown={(e) => e.shiftKey && e.preventDefault()} // a range click, not a text selection
          onClick={(e) => {
            if (e.shiftKey || e.ctrlKey || e.metaKey) b.toggle(index, e.shiftKey);
            else void b.openAt(index);
          }}
        >
          {!item ? (
            <div className="thumb loading" />
          ) : isNlvr2 ? (
            <div className="pair-row">
              <Thumb path={(item as Nlvr2Example).leftPath} alt="left" />
              <Thumb path={(item as Nlvr2Example).rightPath} alt="right" />
              <div>
                <p>{(item as Nlvr2Example).sentence}</p>
                <Nlvr2CellLabel item={item as Nlvr2Example} labels={labels} />
              </div>
            </div>
          ) : (
            <>
              <Thumb path={(item as ImageItem).path} alt={(item as ImageItem).file} />
              <p className="caption" title={(item as ImageItem).firstCaption ?? ''}>
                {flagTag(labels[`image|${(item as ImageItem).sourceId}|flag`])}
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
          {fmtInt(b.total)}
          {b.capped ? '+ matches' : ` ${isNlvr2 ? 'example' : 'image'}${b.total === 1 ? '' : 's'}`}
        </span>
      </div>
      <Stats datasetId={dataset.id} />
      {!isNlvr2 && <SearchPanel datasetId={dataset.id} splits={Object.keys(dataset.splits)} />}
      {!b.open && <BulkActions shown={labels} visible={new Set(visible.map((t) => `${t.kind}|${t.key}`))} />}
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
          <div className="grid-inner" style={{ height: scrollH }}>
            {cells}
          </div>
        </div>
        {b.open && <ItemPanel item={b.open} onClose={b.close} onNext={() => goTo(b.cursor + 1)} />}
        {peek && itemAt(b, b.cursor) && <FullImage item={itemAt(b, b.cursor)!} onClose={() => setPeek(false)} />}
      </div>
    </section>
  );
}
