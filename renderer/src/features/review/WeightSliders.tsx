// The queue's weights, visible and adjustable: label-error score and uncertainty (mixed by rank), and how strongly
// near-duplicates are spaced apart. A change re-orders the queue (the backend keeps the last few orders).
import { useEffect, useState } from 'react';
import type { ReviewWeights } from '../../../../electron/api/schemas';
import { DEFAULT_REVIEW_WEIGHTS } from '../../../../electron/api/review-decisions';
import { useReview } from './store';

const LABELS: [keyof ReviewWeights, string, string][] = [
  ['labelError', 'Label error', 'how strongly the model prefers another image (or the other NLVR2 label)'],
  ['uncertainty', 'Uncertainty', 'how close the model is to undecided (ITM margin near 0, NLVR2 p near 0.5)'],
  ['diversity', 'Diversity', 'keeps near-duplicates (cosine ≥ 0.95) apart: 1 = never within 50 items'],
];

export function WeightSliders() {
  const weights = useReview((s) => s.weights);
  const setWeights = useReview((s) => s.setWeights);
  // the sliders move freely; the queue re-orders once they rest
  const [draft, setDraft] = useState(weights);
  useEffect(() => setDraft(weights), [weights]);
  useEffect(() => {
    if (draft === weights) return;
    const t = setTimeout(() => setWeights(draft), 250);
    return () => clearTimeout(t);
  }, [draft, weights, setWeights]);
  return (
    <fieldset className="weights row" aria-label="Weights">
      {LABELS.map(([k, label, title]) => (
        <label key={k} title={title}>
          {label}
          <input
            type="range"
            min={0}
            max={1}
            step={0.05}
            value={draft[k]}
            aria-label={`${label} weight`}
            onChange={(e) => setDraft({ ...draft, [k]: Number(e.target.value) })}
          />
          <output>{draft[k].toFixed(2)}</output>
        </label>
      ))}
      <button type="button" onClick={() => setDraft(DEFAULT_REVIEW_WEIGHTS)}>
        Defaults
      </button>
    </fieldset>
  );
}
