// The queue's current item: why it is here (its score and both signals) and what a decision needs to see. A caption:
// its text, its own image and the image the model prefers (what H and M judge), then the model's next choices.
// An NLVR2 example: the statement, the two images, the given label and the prediction (F flips the label).
import { useEffect, useRef, useState } from 'react';
import type { ReviewFix } from '../../../../electron/api/review-decisions';
import type { EvalCandidate, EvalItemDetail, ReviewQueueItem } from '../../../../electron/api/schemas';
import { mediaUrl } from '../../api/mome';
import { fmtInt } from '../../format';
import type { Decision } from './store';

const word = (b: boolean | null) => (b === null ? 'unlabelled' : b ? 'True' : 'False');

function Picture({ c, title }: { c: EvalCandidate; title: string }) {
  return (
    <figure className={c.isTruth ? 'truth' : ''}>
      {c.path ? <img className="big" src={mediaUrl(c.path, 384)} alt={`image ${c.key}`} /> : <div className="big" />}
      <figcaption>
        {title}: image {c.key} · score {c.score === null ? '—' : c.score.toFixed(3)}
      </figcaption>
    </figure>
  );
}

function FixCaption({
  text,
  partner,
  onFix,
  onCancel,
}: {
  text: string;
  partner: string | undefined;
  onFix(f: ReviewFix): void;
  onCancel(): void;
}) {
  const [value, setValue] = useState(text);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  return (
    <form
      className="fix row"
      data-testid="review-fix"
      onSubmit={(e) => {
        e.preventDefault();
        if (value.trim() && value.trim() !== text) onFix({ raw: value.trim() });
      }}
    >
      <input
        ref={input}
        aria-label="Corrected caption"
        value={value}
        onChange={(e) => setValue(e.target.value)}
        onKeyDown={(e) => e.key === 'Escape' && onCancel()}
      />
      <button type="submit">Save text (Enter)</button>
      {partner && (
        <button type="button" onClick={() => onFix({ image: partner })}>
          Move to image {partner}
        </button>
      )}
      <button type="button" onClick={onCancel}>
        Cancel (Esc)
      </button>
    </form>
  );
}

export function ReviewCard({
  item,
  detail,
  decision,
  fixing,
  onFix,
  onCancelFix,
}: {
  item: ReviewQueueItem;
  detail: EvalItemDetail | null;
  decision: Decision | undefined;
  fixing: boolean;
  onFix(f: ReviewFix): void;
  onCancelFix(): void;
}) {
  const truth = detail?.truth[0];
  const others = detail?.candidates.filter((c) => !c.isTruth) ?? [];
  const n = detail?.nlvr2;
  return (
    <div className="review-card" data-testid="review-item" data-kind={item.kind} data-key={item.key}>
      <div className="review-why muted">
        #{fmtInt(item.position + 1)} in the queue · {item.kind} {item.key}
        {item.split ? ` (${item.split})` : ''} · score {item.score.toFixed(3)} · label error{' '}
        {item.signals.labelError.toFixed(3)} · uncertainty {item.signals.uncertainty.toFixed(3)}
        {decision ? ` · decided here: ${decision.replace('_', ' ')}` : ''}
      </div>
      <p className="query-text">“{item.text ?? detail?.text ?? ''}”</p>
      {!detail ? (
        <p className="muted">Loading…</p>
      ) : n ? (
        <>
          <p>
            Label <strong>{word(n.label)}</strong> · prediction{' '}
            <strong className={n.label !== null && n.label !== n.prediction ? 'worse' : 'better'}>
              {word(n.prediction)}
            </strong>{' '}
            · p(True) {n.probability.toFixed(3)}
          </p>
          <div className="pair">
            <img src={mediaUrl(n.leftPath, 512)} alt="left image" />
            <img src={mediaUrl(n.rightPath, 512)} alt="right image" />
          </div>
        </>
      ) : (
        <>
          <div className="review-pair">
            {truth && <Picture c={truth} title={`its image (rank ${truth.rank === null ? '—' : truth.rank + 1})`} />}
            {others[0] && <Picture c={others[0]} title="the model prefers" />}
          </div>
          {others.length > 1 && (
            <div className="review-strip">
              {others.slice(1, 6).map((c) => (
                <figure key={c.key}>
                  {c.path && <img className="thumb" src={mediaUrl(c.path, 128)} alt={`image ${c.key}`} />}
                  <figcaption>
                    {c.key} · {c.score === null ? '—' : c.score.toFixed(2)}
                  </figcaption>
                </figure>
              ))}
            </div>
          )}
          {fixing && (
            <FixCaption
              text={item.text ?? detail.text ?? ''}
              partner={others[0]?.key}
              onFix={onFix}
              onCancel={onCancelFix}
            />
          )}
        </>
      )}
    </div>
  );
}
