// A model card: what the version is (source, parent, architecture, size), where it runs and why, its
// evaluation runs with their metrics per dataset and split, and a small chart of the same metric across versions.
import type { ModelCard as Card } from '../../../../electron/api/schemas';
import { fmtBytes, fmtTime } from '../../format';
import { useDatasets } from '../datasets/store';
import { useReview } from '../labels/review-store';
import { useLabels } from '../labels/store';
import { useNav } from '../../stores/nav';

/** A fine-tuned version against its parent on the held-out split: Δ, paired 95% interval and what it amounts to. */
function HeldOut({ card }: { card: Card }) {
  const h = card.heldOut;
  if (!h) return <dd className="muted">— (not fine-tuned here)</dd>;
  const pp = (v: number) => `${v > 0 ? '+' : v < 0 ? '−' : '±'}${Math.abs(v).toFixed(1)}`;
  return (
    <dd data-testid="card-held-out">
      <span className="muted">
        fine-tune {h.jobId}, {h.split} split: run {h.beforeRunId} (parent) → run {h.afterRunId}
      </span>
      <ul>
        {h.differences.map((d) => (
          <li key={d.name} data-testid={`held-out-${d.name}`}>
            {LABEL[d.name] ?? d.name} {pp(d.delta)}{' '}
            <span className="muted">
              ({pp(d.ci95[0]).replace('±', '')} to {pp(d.ci95[1]).replace('±', '')}
              {d.mcnemar &&
                `; McNemar p = ${d.mcnemar.p < 0.001 ? d.mcnemar.p.toExponential(1) : d.mcnemar.p.toFixed(3)}`}
              )
            </span>{' '}
            <span className={d.label === 'better' ? 'better' : d.label === 'worse' ? 'worse' : 'muted'}>{d.label}</span>
          </li>
        ))}
      </ul>
    </dd>
  );
}

/** The snapshot of the labels a version was trained on, with a link to what changed since its parent's. */
function TrainedOn({ card }: { card: Card }) {
  const name = useDatasetName();
  const s = card.labelSnapshot;
  if (!s) return <dd className="muted">— (not fine-tuned here)</dd>;
  const open = () => {
    const from = card.parentLabelSnapshot?.datasetId === s.datasetId ? card.parentLabelSnapshot.id : null;
    void useLabels.getState().load({ ...useLabels.getState().filter, datasetId: s.datasetId });
    useReview.getState().setTab('snapshots');
    useReview.getState().choose(s.datasetId);
    void useReview.getState().showDiff(s.datasetId, { fromId: from, toId: s.id });
    useNav.getState().go('labels');
  };
  return (
    <dd data-testid="card-label-snapshot">
      <button type="button" className="link" onClick={open} title="Open the snapshot in Labels">
        snapshot “{s.name}”
      </button>{' '}
      of {name(s.datasetId)}: {s.corrections} corrections
      {s.pendingLeftOut > 0 && `, ${s.pendingLeftOut} awaiting review left out`}
      {card.parentLabelSnapshot ? `; parent trained on “${card.parentLabelSnapshot.name}”` : ''}
    </dd>
  );
}

// metrics are stored in percent, as the papers report them (R@1 = 58.6)
const pct = (x: number | undefined) => (x === undefined ? '—' : `${x.toFixed(1)} %`);
const RETRIEVAL = ['tr_r1', 'tr_r5', 'tr_r10', 'ir_r1', 'ir_r5', 'ir_r10'] as const;
const LABEL: Record<string, string> = {
  tr_r1: 'TR R@1',
  tr_r5: 'TR R@5',
  tr_r10: 'TR R@10',
  ir_r1: 'IR R@1',
  ir_r5: 'IR R@5',
  ir_r10: 'IR R@10',
  accuracy: 'Accuracy',
};
/** The metrics a chart compares: R@1 both ways for retrieval, accuracy for NLVR2. */
const HEADLINE = { retrieval: ['tr_r1', 'ir_r1'], nlvr2: ['accuracy'] } as const;
const COLORS = ['#4e8fdc', '#e0a33a'];

function useDatasetName() {
  const datasets = useDatasets((s) => s.list);
  return (id: number) => datasets.find((d) => d.id === id)?.name ?? `dataset ${id}`;
}

/** MoME experts per layer: vision and language FFNs below vl_start, the vision-language FFN from there on. */
function experts(a: Record<string, unknown>): string {
  const depth = Number(a.num_layers);
  const vl = Number(a.vl_start);
  if (!Number.isFinite(depth) || !Number.isFinite(vl)) return '—';
  const shared = a.shared_experts ? ' (shared)' : '';
  return `V-FFN, L-FFN${shared} in layers 1–${vl}; VL-FFN in layers ${vl + 1}–${depth}`;
}

function Architecture({ card }: { card: Card }) {
  const a = card.model.architecture;
  const rows: [string, string][] = [
    ['Depth', `${String(a.num_layers ?? '—')} layers`],
    ['Width', String(a.hidden_size ?? '—')],
    ['Attention heads', String(a.num_heads ?? '—')],
    ['Image size', a.image_size ? `${String(a.image_size)} px, patch ${String(a.patch_size ?? '—')}` : '—'],
    ['Experts', experts(a)],
    ['Heads present', Array.isArray(a.heads) ? a.heads.join(', ') : '—'],
    ['Tasks', Array.isArray(a.tasks) ? a.tasks.join(', ') : '—'],
    ['Precision', String(a.precision ?? '—')],
  ];
  return (
    <>
      {rows.map(([k, v]) => (
        <div key={k} style={{ display: 'contents' }}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </>
  );
}

function Runs({ card }: { card: Card }) {
  const name = useDatasetName();
  if (card.runs.length === 0)
    return <p className="empty">No evaluation run with this model yet. Run one from Retrieval or NLVR2.</p>;
  return (
    <table className="table" data-testid="model-runs">
      <thead>
        <tr>
          <th>Run</th>
          <th>Task</th>
          <th>Dataset</th>
          <th>Split</th>
          <th>Metrics</th>
          <th>Provider</th>
          <th className="num">Time</th>
          <th>When</th>
        </tr>
      </thead>
      <tbody>
        {card.runs.map((r) => (
          <tr key={r.id}>
            <td className="num">#{r.id}</td>
            <td>{r.task}</td>
            <td>{name(r.datasetId)}</td>
            <td>{r.split}</td>
            <td>
              {(r.task === 'retrieval' ? RETRIEVAL : (['accuracy'] as const))
                .map((m) => `${LABEL[m]} ${pct(r.metrics[m])}`)
                .join(' · ')}
            </td>
            <td>{r.provider}</td>
            <td className="num">{r.seconds.toFixed(1)} s</td>
            <td>{fmtTime(r.createdAt)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** One small bar chart per (task, dataset, split) this model was evaluated on: every version's headline metrics. */
function VersionCharts({ card }: { card: Card }) {
  const name = useDatasetName();
  const splits = new Map<string, { task: 'retrieval' | 'nlvr2'; datasetId: number; split: string }>();
  for (const r of card.runs) splits.set(`${r.task}|${r.datasetId}|${r.split}`, r);
  if (splits.size === 0) return null;
  return (
    <div className="row" style={{ alignItems: 'flex-start', flexWrap: 'wrap' }} data-testid="version-charts">
      {[...splits.entries()].map(([key, s]) => {
        const metrics = HEADLINE[s.task];
        const points = card.versions.flatMap((v) => {
          const r = v.results.find((x) => `${x.task}|${x.datasetId}|${x.split}` === key);
          return r ? [{ v, values: metrics.map((m) => r.metrics[m] ?? 0) }] : [];
        });
        const W = 36 * points.length + 40;
        const H = 110;
        return (
          <figure key={key} style={{ margin: 0 }}>
            <figcaption className="muted">
              {s.task} · {name(s.datasetId)} {s.split}:{' '}
              {metrics.map((m, i) => (
                <span key={m} style={{ color: COLORS[i] }}>
                  {LABEL[m]}{' '}
                </span>
              ))}
            </figcaption>
            <svg width={W} height={H + 30} role="img" aria-label={`${s.task} ${s.split} across versions`}>
              <line x1={30} x2={W} y1={H} y2={H} stroke="currentColor" strokeOpacity={0.3} />
              <text x={0} y={10} fontSize={10} fill="currentColor">
                100%
              </text>
              {points.map(({ v, values }, i) => (
                <g key={v.modelId} opacity={v.modelId === card.model.id ? 1 : 0.55}>
                  {values.map((x, j) => (
                    <rect
                      key={j}
                      x={34 + i * 36 + j * (28 / values.length)}
                      y={H - (H * x) / 100}
                      width={28 / values.length - 2}
                      height={(H * x) / 100}
                      fill={COLORS[j]}
                    >
                      <title>{`${v.name} ${v.version}${v.removed ? ' (removed)' : ''}: ${LABEL[metrics[j]]} ${pct(x)}`}</title>
                    </rect>
                  ))}
                  <text x={34 + i * 36} y={H + 12} fontSize={9} fill="currentColor">
                    {v.version.slice(0, 5)}
                  </text>
                  {v.modelId === card.model.id && (
                    <text x={34 + i * 36} y={H + 24} fontSize={9} fill="currentColor">
                      this
                    </text>
                  )}
                </g>
              ))}
            </svg>
          </figure>
        );
      })}
    </div>
  );
}

export function ModelCardView({ card }: { card: Card }) {
  const m = card.model;
  return (
    <section className="card" data-testid="model-card" aria-label={`model card ${m.name}`}>
      <h2 className="section">
        {m.name} <span className="muted">version {m.version}</span>
        {m.removedAt && <span className="tag">removed {fmtTime(m.removedAt)}</span>}
        {m.active && <span className="tag">active</span>}
      </h2>
      <dl className="facts">
        <dt>Source</dt>
        <dd className="path">{m.sourcePath}</dd>
        <dt>SHA-256</dt>
        <dd className="path">{m.sourceSha256 ?? '—'}</dd>
        <dt>Parent</dt>
        <dd>
          {card.parent
            ? `${card.parent.name} (${card.parent.version})${card.parent.removed ? ', removed' : ''}`
            : '— (imported)'}
        </dd>
        <Architecture card={card} />
        <dt>Trained on labels</dt>
        <TrainedOn card={card} />
        <dt>Against its parent</dt>
        <HeldOut card={card} />
        <dt>Size on disk</dt>
        <dd>{m.removedAt ? 'folder deleted' : fmtBytes(m.sizeBytes)}</dd>
        <dt>Created</dt>
        <dd>{fmtTime(m.createdAt)}</dd>
        <dt>Runs on</dt>
        <dd data-testid="card-provider">
          {card.provider.provider.toUpperCase()}: {card.provider.reason}
        </dd>
        <dt>Runtime</dt>
        <dd className="muted">
          Its ONNX sessions load on first use inside each evaluation job (shown as “Loading the model” on the job) and
          are released when the job ends, so memory stays bounded when you switch models.
        </dd>
      </dl>
      <h3>Evaluation runs</h3>
      <Runs card={card} />
      <VersionCharts card={card} />
    </section>
  );
}
