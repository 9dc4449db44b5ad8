// The points inside a lasso as a grid: images as thumbnails, captions as text under their image's thumbnail,
// a page at a time (the backend sends the items of the indices asked for). A click opens the item.
import { useEffect, useState } from 'react';
import type { EmbeddingMapItem } from '../../../../../electron/api/schemas';
import { mediaUrl, mome } from '../../../api/mome';
import { toastError } from '../../../stores/toasts';
import { fmtInt } from '../../../format';
import { useEval } from '../store';

const PAGE = 120;

export function SelectionGrid({
  runId,
  ids,
  ms,
  onClear,
}: {
  runId: number;
  /** The selected points' indices in the run's map. */
  ids: number[];
  ms: number;
  onClear(): void;
}) {
  const [items, setItems] = useState<EmbeddingMapItem[]>([]);
  const [shown, setShown] = useState(PAGE);
  const openItem = useEval((s) => s.openItem);

  useEffect(() => setShown(PAGE), [ids]);
  useEffect(() => {
    let stale = false;
    mome()
      .getEmbeddingMapItems({ runId, indices: ids.slice(0, shown) })
      .then((x) => !stale && setItems(x))
      .catch((e) => toastError(e));
    return () => {
      stale = true;
    };
  }, [runId, ids, shown]);

  const images = items.filter((i) => i.kind === 'image').length;
  return (
    <section className="selection-grid" data-testid="selection-grid" data-count={ids.length} data-ms={ms.toFixed(1)}>
      <h3>
        In the lasso: {fmtInt(ids.length)} items{' '}
        <span className="muted">
          (selected in {ms.toFixed(0)} ms; showing {fmtInt(items.length)}: {fmtInt(images)} images,{' '}
          {fmtInt(items.length - images)} captions)
        </span>{' '}
        <button type="button" className="link" onClick={onClear}>
          clear
        </button>
      </h3>
      <ul className="selection-cells">
        {items.map((it) => (
          <li key={it.index} data-kind={it.kind}>
            <button type="button" onClick={() => openItem({ runId, kind: it.kind, key: it.key })} title={it.text}>
              {it.path ? (
                <img className="thumb" src={mediaUrl(it.path, 256)} alt={`${it.kind} ${it.key}`} loading="lazy" />
              ) : (
                <div className="thumb missing">image unavailable</div>
              )}
              <span className="cell-text">
                <span className="muted">
                  {it.kind} {it.key} · {it.split} · {it.rank === null ? '—' : `#${it.rank + 1}`}
                </span>
                {it.kind === 'caption' && <span>{it.text}</span>}
              </span>
            </button>
          </li>
        ))}
      </ul>
      {shown < ids.length && (
        <button type="button" onClick={() => setShown((s) => s + PAGE)}>
          Show {fmtInt(Math.min(PAGE, ids.length - shown))} more
        </button>
      )}
    </section>
  );
}
