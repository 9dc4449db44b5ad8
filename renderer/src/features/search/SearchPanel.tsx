// The search bar of Browse and Retrieval: a sentence ranks the split's images with the active model (the
// evaluation's embeddings and scores; optionally ITM re-ranks the top ones). In the results, keys act on the
// picked image: H hard negative and M also a match for the query caption (the Retrieval view's pair labels,
// with the same history and undo), F flag, C save a free-text query as a caption of the image, S the images
// most like it, O/Enter open.
import { useEffect, useRef } from 'react';
import type { SearchHit, SearchResult } from '../../../../electron/api/schemas';
import { mediaUrl, mome } from '../../api/mome';
import { fmtInt } from '../../format';
import { useBrowse } from '../browse/store';
import { useJobs } from '../jobs/store';
import { useLabels } from '../labels/store';
import { useNav } from '../../stores/nav';
import { RERANK_K, useSearch } from './store';
import { toastError, useToasts } from '../../stores/toasts';
import { ProgressBar } from '../../components/ProgressBar';
import { useResultLabels } from './useResultLabels';
import './SearchPanel.css';

type Relation = 'hard_negative' | 'also_match';

async function openInPanel(datasetId: number, hit: SearchHit) {
  try {
    const item = await mome().getImageItem({ id: hit.imageId });
    useBrowse.getState().show(datasetId, item);
    useNav.getState().go('browse');
  } catch (e) {
    toastError(e);
  }
}

function ResultCell({
  hit,
  n,
  picked,
  relation,
  flag,
  onPick,
}: {
  hit: SearchHit;
  n: number;
  picked: boolean;
  relation: Relation | null;
  flag: unknown;
  onPick(): void;
}) {
  return (
    <figure
      className={`${hit.isTruth ? 'truth' : ''} ${picked ? 'picked' : ''}`}
      data-testid="search-hit"
      data-imgid={hit.imgid}
      onClick={onPick}
    >
      <img className="thumb" src={mediaUrl(hit.path, 256)} alt={`image ${hit.imgid}`} loading="lazy" />
      <figcaption>
        #{n + 1} · image {hit.imgid} · <span className="num">{hit.score.toFixed(3)}</span>
        {hit.itcRank !== n && <span className="muted"> (ITC #{hit.itcRank + 1})</span>}
        {hit.isTruth && ' · its image'}
        {relation && <span className={`badge ${relation}`}> · {relation.replace('_', ' ')}</span>}
        {typeof flag === 'string' && <span className={`tag tag-${flag}`}>{flag}</span>}
      </figcaption>
    </figure>
  );
}

function Status({ r }: { r: SearchResult }) {
  return (
    <p className="muted" data-testid="search-status">
      Top {fmtInt(r.results.length)} of {fmtInt(r.images)} images by {r.model.name}
      {r.rerankK ? `, the first ${r.rerankK} re-ranked by ITM (scores: p(match))` : ''} ·{' '}
      {(r.seconds * 1000).toFixed(0)} ms
      {r.unreadable ? ` · ${fmtInt(r.unreadable)} unreadable images left out` : ''}
      {r.query?.truncated && (
        <span className="warning" data-testid="search-truncated">
          {' '}
          · The query is {r.query.tokens} tokens; the model reads {r.query.maxTokens}, so its end was cut.
        </span>
      )}
      <br />
      {r.queryImage ? (
        <>Images most like image {r.queryImage.imgid ?? r.queryImage.file}: </>
      ) : r.caption ? (
        <>
          The query is caption {r.caption.sentid} of image {r.caption.imgid}: <kbd>H</kbd> hard negative, <kbd>M</kbd>{' '}
          also a match,{' '}
        </>
      ) : (
        <>
          Free text: <kbd>C</kbd> saves it as a caption of the picked image,{' '}
        </>
      )}
      <kbd>F</kbd> flag, <kbd>S</kbd> more like this, <kbd>O</kbd> open, <kbd>←</kbd>/<kbd>→</kbd> pick,{' '}
      <kbd>Ctrl+Z</kbd> undo
    </p>
  );
}

export function SearchPanel({ datasetId, splits }: { datasetId: number; splits: string[] }) {
  const s = useSearch();
  const grid = useRef<HTMLDivElement>(null);
  const job = useJobs((j) => (s.jobId === null ? null : (j.byId[s.jobId] ?? null)));
  const edit = useLabels((l) => l.edit);
  const r = s.datasetId === datasetId ? s.result : null;
  const shown = useResultLabels(datasetId, r);
  const splitKey = splits.join(',');

  useEffect(() => useSearch.getState().showDataset(datasetId, splitKey.split(',')), [datasetId, splitKey]);
  useEffect(() => {
    if (job?.finishedAt) useSearch.getState().jobDone();
  }, [job?.finishedAt]);
  useEffect(() => {
    if (r && r.results.length) grid.current?.focus();
  }, [r]);

  const hit = r?.results[s.cursor];
  const toast = (m: string) => useToasts.getState().push(m, 'info');

  function mark(relation: Relation) {
    if (!r || !hit) return;
    if (!r.caption)
      return toast('H and M mark a result for a caption of the dataset: search with one of its captions.');
    if (hit.isTruth) return toast(`Image ${hit.imgid} is the caption's own image.`);
    const key = `${r.caption.sentid}|${hit.imgid}`;
    void edit(
      [
        {
          datasetId,
          kind: 'pair',
          key,
          field: 'relation',
          value: relation,
          expected: shown.get(`pair|${key}`) ?? null,
        },
      ],
      'search',
    ).then((ok) => ok && toast(`caption ${r.caption!.sentid} × image ${hit.imgid}: ${relation.replace('_', ' ')}`));
  }
  function flag() {
    if (!hit) return;
    const now = shown.get(`image|${hit.imgid}`) ?? null;
    void edit(
      [{ datasetId, kind: 'image', key: hit.imgid, field: 'flag', value: now ? null : 'bad', expected: now }],
      'search',
    ).then((ok) => ok && toast(`image ${hit.imgid}: ${now ? 'flag cleared' : 'flagged bad'}`));
  }
  function saveCaption() {
    if (!r || !hit || !r.query) return;
    if (r.caption) return toast('The query is already a caption of the dataset.');
    const key = `new:${Date.now().toString(36)}`;
    void edit(
      [
        { datasetId, kind: 'caption', key, field: 'raw', value: r.query.text },
        { datasetId, kind: 'caption', key, field: 'image', value: hit.imgid },
      ],
      'search',
    ).then((ok) => ok && toast(`Saved “${r.query!.text}” as a new caption of image ${hit.imgid}`));
  }

  function onKey(e: React.KeyboardEvent) {
    if (e.ctrlKey || e.metaKey || e.altKey || !r) return;
    const k = e.key.toLowerCase();
    if (k === 'arrowright' || k === 'j') s.move(s.cursor + 1);
    else if (k === 'arrowleft' || k === 'k') s.move(s.cursor - 1);
    else if (k === 'h') mark('hard_negative');
    else if (k === 'm') mark('also_match');
    else if (k === 'f') flag();
    else if (k === 'c') saveCaption();
    else if (k === 's' && hit) void s.run(hit.imageId);
    else if ((k === 'o' || k === 'enter') && hit) void openInPanel(datasetId, hit);
    else if (k === 'escape') s.clear();
    else return;
    e.preventDefault();
    e.stopPropagation(); // the view's own keys (Browse's grid) do not act on the same press
  }

  return (
    <div className="search-panel" data-testid="search">
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          void s.run();
        }}
      >
        <input
          className="search-text"
          aria-label="Search images by text"
          placeholder="Search images with the model: a sentence…"
          value={s.text}
          onChange={(e) => s.set({ text: e.target.value })}
        />
        <select aria-label="Search split" value={s.split} onChange={(e) => s.set({ split: e.target.value })}>
          {splits.map((sp) => (
            <option key={sp} value={sp}>
              {sp}
            </option>
          ))}
          <option value="*">all splits</option>
        </select>
        <label>
          k{' '}
          <input
            type="number"
            aria-label="Results"
            min={1}
            max={500}
            value={s.k}
            onChange={(e) => s.set({ k: Math.max(1, Math.min(500, Number(e.target.value) || 1)) })}
          />
        </label>
        <label title={`Re-rank the top ${RERANK_K} with the fusion encoder's ITM head, as the evaluation does`}>
          <input type="checkbox" checked={s.rerank} onChange={(e) => s.set({ rerank: e.target.checked })} /> ITM re-rank
          top {RERANK_K}
        </label>
        <button type="submit" disabled={s.busy}>
          {s.busy ? 'Searching…' : 'Search'}
        </button>
        {r && (
          <button type="button" className="link" onClick={s.clear}>
            Clear
          </button>
        )}
      </form>
      {s.error && (
        <p className="error" role="alert" data-testid="search-error">
          {s.error}
        </p>
      )}
      {job && !job.finishedAt && (
        <div data-testid="search-encoding">
          <p className="muted">
            The images of this split are not encoded with this model yet: encoding them once (cached for search and
            evaluation). {job.message}
          </p>
          <ProgressBar value={job.progress} label="encoding images for search" />
        </div>
      )}
      {r && (
        <>
          <Status r={r} />
          <div className="search-results topk" ref={grid} tabIndex={0} onKeyDown={onKey} data-testid="search-results">
            {r.results.map((h, n) => (
              <ResultCell
                key={h.imageId}
                hit={h}
                n={n}
                picked={n === s.cursor}
                relation={(r.caption ? (shown.get(`pair|${r.caption.sentid}|${h.imgid}`) as Relation) : null) ?? null}
                flag={shown.get(`image|${h.imgid}`)}
                onPick={() => {
                  s.move(n);
                  grid.current?.focus();
                }}
              />
            ))}
          </div>
        </>
      )}
    </div>
  );
}
