// The Labels view's Review tab: a dataset's edited fields filtered by state (pending, accepted, rejected,
// unreviewed), pending corrections accepted or rejected by someone other than their author, agreement between
// authors (Cohen's kappa) and conflicting judgements side by side.
import type { LabelAgreement, LabelFieldState } from '../../../../electron/api/schemas';
import { fmtInt, fmtTime } from '../../format';
import { showValue } from './SnapshotDiff';
import { useReview } from './review-store';

const STATES: [LabelFieldState, string][] = [
  ['pending', 'Pending'],
  ['accepted', 'Accepted'],
  ['rejected', 'Rejected'],
  ['unreviewed', 'Not reviewed (written while review was off, or no correction)'],
];

function Agreement({ agreement }: { agreement: LabelAgreement['agreement'] }) {
  if (agreement.length === 0) return <p className="muted">Agreement: no two authors judged the same items yet.</p>;
  return (
    <p className="muted" data-testid="label-agreement">
      Agreement between authors on the items both judged (labels, moves, removals, flags, pairs):{' '}
      {agreement.map((a) => (
        <span key={a.authors.join('|')} style={{ marginRight: 18, whiteSpace: 'nowrap' }}>
          {a.authors[0]} × {a.authors[1]}: <strong>κ {a.kappa === null ? 'undefined' : a.kappa.toFixed(2)}</strong> over{' '}
          {fmtInt(a.items)} items ({(100 * a.observed).toFixed(0)} % the same)
        </span>
      ))}
    </p>
  );
}

function Conflicts({ conflicts }: { conflicts: LabelAgreement['conflicts'] }) {
  if (conflicts.total === 0) return null;
  const authors = [...new Set(conflicts.items.flatMap((c) => c.judgements.map((j) => j.author)))].sort();
  return (
    <>
      <h3>Conflicting judgements ({fmtInt(conflicts.total)})</h3>
      <table className="table" data-testid="label-conflicts">
        <thead>
          <tr>
            <th>Item</th>
            <th>Field</th>
            <th>State</th>
            {authors.map((a) => (
              <th key={a}>{a}</th>
            ))}
            <th>Decisions</th>
          </tr>
        </thead>
        <tbody>
          {conflicts.items.map((c) => (
            <tr key={`${c.kind}|${c.key}|${c.field}`}>
              <td>
                {c.kind} {c.key}
              </td>
              <td>{c.field}</td>
              <td>{c.state}</td>
              {authors.map((a) => {
                const j = c.judgements.find((x) => x.author === a);
                return <td key={a}>{j ? showValue(j.value) : ''}</td>;
              })}
              <td>{c.decisions.map((d) => `${d.author} ${d.decision}ed`).join('; ') || '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export function ReviewPanel() {
  const { fields, agreement, state, datasetId, settings, filterState, decide } = useReview();
  if (datasetId === null) return <p className="empty">Choose a dataset to review its corrections.</p>;
  return (
    <>
      <div className="row">
        <select
          aria-label="Filter state"
          value={state ?? ''}
          onChange={(e) => filterState((e.target.value || undefined) as LabelFieldState | undefined)}
        >
          <option value="">All states</option>
          {STATES.map(([s, label]) => (
            <option key={s} value={s}>
              {label} ({fmtInt(fields?.counts[s] ?? 0)})
            </option>
          ))}
        </select>
        <span className="muted num" data-testid="field-counts">
          {STATES.map(([s]) => `${fmtInt(fields?.counts[s] ?? 0)} ${s}`).join(' · ')}
        </span>
        {settings && !settings.reviewRequired && (
          <span className="muted">Corrections need no review now: new ones are in force at once.</span>
        )}
      </div>
      {agreement && <Agreement agreement={agreement.agreement} />}
      {!fields || fields.items.length === 0 ? (
        <p className="empty">No {state ?? 'edited'} labels in this dataset.</p>
      ) : (
        <table className="table" data-testid="label-fields">
          <thead>
            <tr>
              <th>Item</th>
              <th>Field</th>
              <th>State</th>
              <th>Proposed</th>
              <th>In force</th>
              <th>Author</th>
              <th>When</th>
              <th>Decisions</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {fields.items.map((f) => (
              <tr key={`${f.kind}|${f.key}|${f.field}`} data-state={f.state}>
                <td>
                  {f.kind} {f.key}
                </td>
                <td>{f.field}</td>
                <td>
                  <span className={`tag state-${f.state}`}>{f.state}</span>
                </td>
                <td>{showValue(f.value)}</td>
                <td>{showValue(f.valueInForce)}</td>
                <td>{f.event.author}</td>
                <td>{fmtTime(f.event.createdAt)}</td>
                <td>{f.decisions.map((d) => `${d.author} ${d.decision}ed`).join('; ') || '—'}</td>
                <td>
                  {/* a second reviewer may still reject an accepted correction: the decisions then conflict */}
                  {f.state === 'pending' && (
                    <button type="button" onClick={() => void decide(f.event.id, 'accept')}>
                      Accept
                    </button>
                  )}{' '}
                  {(f.state === 'pending' || f.state === 'accepted') && (
                    <button type="button" onClick={() => void decide(f.event.id, 'reject')}>
                      Reject
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {agreement && <Conflicts conflicts={agreement.conflicts} />}
    </>
  );
}
