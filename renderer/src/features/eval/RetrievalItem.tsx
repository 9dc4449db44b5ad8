// One retrieval query in full. A caption: its own image next to the top-k images with their scores (J/K
// pick one, H marks it a hard negative, M "also a match"). An image: its captions, each with its own rank,
// next to the top-k captions with scores. The ground truth is outlined wherever it appears.
import { useCallback, useEffect, useState } from 'react';
import type { EvalCandidate, EvalItemDetail } from '../../../../electron/api/schemas';
import { mediaUrl } from '../../api/mome';
import { fmtInt } from '../../format';
import { useLabels } from '../labels/store';
import { useToasts } from '../../stores/toasts';
import { usePairRelations, type Relation } from './usePairRelations';
import { notAShortcut } from '../../keys';

const rank = (r: number | null) => (r === null ? '—' : `#${fmtInt(r + 1)}`);

function Thumb({
  c,
  picked,
  relation,
  onClick,
}: {
  c: EvalCandidate;
  picked?: boolean;
  relation?: Relation | null;
  onClick?(): void;
}) {
  return (
    <figure className={`${c.isTruth ? 'truth' : ''} ${picked ? 'picked' : ''}`} onClick={onClick}>
      {c.path ? (
        <img className="thumb" src={mediaUrl(c.path, 256)} alt={`image ${c.key}`} />
      ) : (
        <div className="thumb" />
      )}
      <figcaption>
        image {c.key} · {c.score === null ? '—' : c.score.toFixed(3)}
        {c.isTruth ? ' · its image' : ''}
        {relation && <span className={`badge ${relation}`}> · {relation.replace('_', ' ')}</span>}
      </figcaption>
    </figure>
  );
}

function CaptionQuery({ d, datasetId }: { d: EvalItemDetail; datasetId: number }) {
  const [pick, setPick] = useState(0);
  const edit = useLabels((s) => s.edit);
  const truth = d.truth[0];
  useEffect(() => setPick(0), [d.key]);
  const relations = usePairRelations(
    datasetId,
    d.key,
    d.candidates.map((c) => c.key),
  );
  const mark = useCallback(
    (relation: Relation) => {
      const c = d.candidates[pick];
      if (!c || c.isTruth) return;
      const key = `${d.key}|${c.key}`;
      const expected = relations.get(key) ?? null;
      void edit(
        [{ datasetId, kind: 'pair', key, field: 'relation', value: relation, expected }],
        'retrieval',
        d.runId,
      ).then(
        (ok) =>
          ok && useToasts.getState().push(`caption ${d.key} × image ${c.key}: ${relation.replace('_', ' ')}`, 'info'),
      );
    },
    [d, pick, datasetId, edit, relations],
  );
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (notAShortcut(e)) return;
      const k = e.key.toLowerCase();
      if (k === 'j') setPick((p) => Math.min(p + 1, d.candidates.length - 1));
      else if (k === 'k') setPick((p) => Math.max(p - 1, 0));
      else if (k === 'h') mark('hard_negative');
      else if (k === 'm') mark('also_match');
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [d, mark]);
  return (
    <div className="item-detail" data-testid="item-detail" data-kind={d.kind} data-key={d.key}>
      <p className="query-text">
        Caption <strong>{d.key}</strong> ({d.split}): “{d.text}”
      </p>
      <p className="muted">
        Its image ranks {rank(d.rank)} · margin {(-d.mistakenness).toFixed(3)} (<kbd>J</kbd>/<kbd>K</kbd> pick,{' '}
        <kbd>H</kbd> hard negative, <kbd>M</kbd> also a match, <kbd>N</kbd>/<kbd>P</kbd> next/previous query)
      </p>
      <div className="truth-and-top">
        <div className="truth-col" data-testid="truth">
          <h3>Its image</h3>
          <Thumb c={truth} />
        </div>
        <div>
          <h3>Top {d.candidates.length}</h3>
          <div className="topk" data-testid="topk">
            {d.candidates.map((c, j) => (
              <Thumb
                key={j}
                c={{ ...c, key: `${c.key} · #${j + 1}` }}
                picked={j === pick}
                relation={relations.get(`${d.key}|${c.key}`)}
                onClick={() => setPick(j)}
              />
            ))}
          </div>
        </div>
      </div>
    </div>
  );
}

function ImageQuery({ d }: { d: EvalItemDetail }) {
  return (
    <div className="item-detail" data-testid="item-detail" data-kind={d.kind} data-key={d.key}>
      <p className="query-text">
        Image <strong>{d.key}</strong> ({d.split}): its best caption ranks {rank(d.rank)} · margin{' '}
        {(-d.mistakenness).toFixed(3)}
      </p>
      <div className="truth-and-top">
        <div className="truth-col" data-testid="truth">
          {d.path && <img className="large" src={mediaUrl(d.path, 512)} alt={`image ${d.key}`} />}
          <h3>Its captions</h3>
          <ol className="captions">
            {d.truth.map((c) => (
              <li key={c.key}>
                {c.text} <span className="muted">(as a query: {rank(c.rank)})</span>
              </li>
            ))}
          </ol>
        </div>
        <div>
          <h3>Top {d.candidates.length} captions</h3>
          <ol className="captions" data-testid="topk">
            {d.candidates.map((c) => (
              <li key={c.key} className={c.isTruth ? 'truth' : ''}>
                {c.path && <img className="mini" src={mediaUrl(c.path, 96)} alt="" />}
                <span>{c.text}</span>{' '}
                <span className="num muted">
                  {c.score === null ? '—' : c.score.toFixed(3)}
                  {c.isTruth ? ' · its caption' : ''}
                </span>
              </li>
            ))}
          </ol>
        </div>
      </div>
    </div>
  );
}

export function RetrievalItem({ d, datasetId }: { d: EvalItemDetail; datasetId: number }) {
  return d.kind === 'caption' ? <CaptionQuery d={d} datasetId={datasetId} /> : <ImageQuery d={d} />;
}
