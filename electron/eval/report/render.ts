// The report's HTML: one file, no scripts, no external URL (a strict Content-Security-Policy says so), every
// text from the data escaped, figures formatted as the views format them (format.ts), charts as inline SVG.
import type {
  Dataset,
  EvalComparison,
  EvalItem,
  EvalRun,
  EvalSummary,
  ChangedSlices,
  FailureSlices,
  HistogramBin,
  ModelCard,
} from '../../api/schemas';
import { ci, esc, fmtBytes, fmtInt, interval, metricLabel, pct, pp, pValue, range, signed } from './format';

export interface ReportItem {
  item: EvalItem;
  /** An image query: the caption ranked first (not its own). */
  firstCandidate: string | null;
  nlvr2: { label: boolean | null; prediction: boolean; probability: number } | null;
  /** Thumbnails as data: URIs; null: unreadable, outside the dataset folder or over the cap (placeholder). */
  images: { label: string; src: string | null }[];
}

export interface ReportData {
  generatedAt: string;
  appVersion: string;
  run: EvalRun;
  other: EvalRun | null;
  comparison: EvalComparison | null;
  summary: EvalSummary;
  slices: FailureSlices[];
  /** A comparison: per kind, the groups this run fixed and broke most against the other. */
  changed: ChangedSlices[];
  worst: { kind: EvalItem['kind']; total: number; items: ReportItem[] }[];
  card: ModelCard | null;
  otherCard: ModelCard | null;
  dataset: Dataset;
  thumbnails: number;
}

export const CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'";

const RETRIEVAL = ['tr_r1', 'tr_r5', 'tr_r10', 'ir_r1', 'ir_r5', 'ir_r10'];
const splitName = (s: string) => (s === '*' ? 'all splits' : s);

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;background:#fff;margin:0 auto;max-width:1100px;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #dde1ea;padding-bottom:4px}
h3{font-size:14px;margin:14px 0 6px}
table{border-collapse:collapse;margin:6px 0 10px}th,td{padding:4px 8px;border-bottom:1px solid #eceef3;text-align:left;vertical-align:top}
th{font-weight:600;background:#f6f7fa}.num{text-align:right;font-variant-numeric:tabular-nums}
.ci{display:block;font-size:11px;color:#6b7280}.muted{color:#6b7280}.better{color:#137333}.worse{color:#b3261e}
.hists{display:flex;flex-wrap:wrap;gap:16px}figure{margin:0;width:340px}figcaption{font-size:12px;color:#4b5563}
svg .bar{fill:#9aa7c2}svg .bar.hot{fill:#3b6fd8}svg .tick{font-size:9px;fill:#4b5563}svg .axis{stroke:#9ca3af}
.items{list-style:none;padding:0;margin:0}.items li{display:flex;gap:10px;align-items:flex-start;padding:6px 0;border-bottom:1px solid #eceef3}
.thumbs{display:flex;gap:4px;flex:none}.thumb{display:flex;flex-direction:column;align-items:center;font-size:10px;color:#6b7280;width:96px}
.thumb img{max-width:96px;max-height:96px}.ph{width:96px;height:72px;background:#eef0f4;display:flex;align-items:center;justify-content:center;font-size:10px;color:#6b7280;text-align:center}
.rank{font-weight:600;color:#b3261e;min-width:4em}dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:6px 0}
dt{color:#4b5563}dd{margin:0;word-break:break-all}footer{margin-top:32px;font-size:12px;color:#6b7280}
`;

function histogram(title: string, bins: HistogramBin[], hot: (b: HistogramBin) => boolean, id: string): string {
  const W = 320;
  const H = 110;
  const max = Math.max(1, ...bins.map((b) => b.count));
  const bw = W / Math.max(1, bins.length);
  const bars = bins
    .map((b, j) => {
      const h = (H * b.count) / max;
      const tick =
        bins.length <= 12 || j % Math.ceil(bins.length / 6) === 0
          ? `<text x="${(j * bw + bw / 2).toFixed(1)}" y="${H + 12}" text-anchor="middle" class="tick">${esc(b.label)}</text>`
          : '';
      return `<g><rect x="${(j * bw + 1).toFixed(1)}" y="${(H - h).toFixed(1)}" width="${Math.max(0, bw - 2).toFixed(1)}" height="${h.toFixed(1)}" class="${hot(b) ? 'bar hot' : 'bar'}" data-count="${b.count}"><title>${esc(b.label)}: ${fmtInt(b.count)}</title></rect>${tick}</g>`;
    })
    .join('');
  return `<figure data-histogram="${esc(id)}"><figcaption>${esc(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H + 28}" role="img" aria-label="${esc(title)}">${bars}<line x1="0" x2="${W}" y1="${H}" y2="${H}" class="axis"/></svg></figure>`;
}

function metricsTable(runs: EvalRun[]): string {
  const task = runs[0].task;
  const names = task === 'retrieval' ? RETRIEVAL : ['accuracy'];
  const head = `<tr><th class="num">Run</th><th>Model</th><th>Split</th>${names.map((m) => `<th class="num">${esc(metricLabel(m))}</th>`).join('')}${task === 'retrieval' ? '<th>Re-rank</th>' : ''}<th>Provider</th><th class="num">Time</th><th>Created</th></tr>`;
  const rows = runs.map((r) => {
    const cells = names
      .map((m) => {
        const iv = r.ci95?.[m];
        return `<td class="num" data-run="${r.id}" data-metric="${esc(m)}"><span class="value">${pct(r.metrics[m])}</span>${iv ? `<span class="ci" data-ci="${esc(m)}">${ci(iv)}</span>` : ''}</td>`;
      })
      .join('');
    const rerank = r.options.rerank === 'itm' ? `ITM top ${esc(String(r.options.rerankK))}` : '—';
    // the dual encoder's own figures beside an ITM re-rank (no per-query ranks, so no interval)
    const itc = Object.keys(r.metrics).filter((k) => k.startsWith('itc_'));
    const itcNote = itc.length
      ? `<tr><td></td><td colspan="${names.length + 6}" class="muted">Dual encoder before re-rank: ${itc.map((k) => `${esc(k.replace(/^itc_/, '').toUpperCase().replace('_R', '@'))} ${pct(r.metrics[k])}`).join(', ')}</td></tr>`
      : '';
    return `<tr data-run-row="${r.id}"><td class="num">${r.id}</td><td>${esc(r.modelName)} <span class="muted">${esc(r.modelVersion)}</span></td><td>${esc(splitName(r.split))}</td>${cells}${task === 'retrieval' ? `<td>${rerank}</td>` : ''}<td>${esc(r.provider)}</td><td class="num">${r.seconds.toFixed(1)} s</td><td>${esc(r.createdAt)}</td></tr>${itcNote}`;
  });
  const b = runs[0].bootstrap;
  return `<table data-table="metrics"><thead>${head}</thead><tbody>${rows.join('')}</tbody></table><p class="muted">Under each figure: its 95% percentile-bootstrap interval over the run's queries (${fmtInt(b?.resamples ?? 1000)} resamples, seed ${b?.seed ?? 0}).</p>`;
}

function comparisonSection(c: EvalComparison): string {
  const rows = c.metrics.map((m) => {
    const d = c.differences?.find((x) => x.name === m.name);
    const delta = d ? d.delta : m.delta;
    const verdict = d?.label === 'better' ? 'better' : d?.label === 'worse' ? 'worse' : 'muted';
    const mc = d?.mcnemar
      ? ` <span class="muted" data-mcnemar="${d.mcnemar.p}">(McNemar p = ${pValue(d.mcnemar.p)}; right only in run ${c.a.id}: ${fmtInt(d.mcnemar.rightOnlyInA)}, only in run ${c.b.id}: ${fmtInt(d.mcnemar.rightOnlyInB)})</span>`
      : '';
    return `<tr data-difference="${esc(m.name)}"><td>${esc(metricLabel(m.name))}</td><td class="num" data-col="a">${pct(m.a)}</td><td class="num" data-col="b">${pct(m.b)}</td><td class="num" data-col="delta">${signed(delta)}</td><td class="num" data-col="interval">${interval(d?.ci95)}</td><td class="${verdict}"><span data-col="label">${esc(d ? d.label : 'no per-query ranks')}</span>${mc}</td></tr>`;
  });
  const flips = (title: string, items: EvalComparison['fixed'], total: number) => {
    const rank = (r: number | null, kind: string) =>
      r === null ? '—' : kind === 'nlvr2' ? (r === 0 ? 'right' : 'wrong') : `#${r + 1}`;
    const li = items
      .map(
        (f) =>
          `<li><span class="muted">${esc(f.kind)} ${esc(f.key)}</span> ${esc(f.text ?? '')} <span class="num muted">${rank(f.rankA, f.kind)} → ${rank(f.rankB, f.kind)}</span></li>`,
      )
      .join('');
    const more = total > items.length ? `<li class="muted">… and ${fmtInt(total - items.length)} more</li>` : '';
    return `<div data-flips="${title.toLowerCase()}"><h3>${title} <span class="muted">${fmtInt(total)}</span></h3>${items.length ? `<ul>${li}${more}</ul>` : '<p class="muted">None.</p>'}</div>`;
  };
  const hit = c.a.task === 'nlvr2' ? 'predicted right' : `ranked in the top ${c.at}`;
  return `<h2>Run ${c.b.id} against run ${c.a.id}</h2>
<p class="muted">Δ = run ${c.b.id} − run ${c.a.id}, in points, over the ${fmtInt(c.totals.compared)} queries ranked in both (paired bootstrap, ${fmtInt(c.bootstrap?.resamples ?? 1000)} resamples). A difference is “better” or “worse” when its paired 95% interval excludes 0${c.a.task === 'nlvr2' ? '; for NLVR2 accuracy the exact McNemar test decides (p &lt; 0.05)' : ''}; otherwise “no detectable difference at 95%”.</p>
<table data-table="comparison"><thead><tr><th>Metric</th><th class="num">Run ${c.a.id} <span class="muted">${esc(c.a.modelName)}</span></th><th class="num">Run ${c.b.id} <span class="muted">${esc(c.b.modelName)}</span></th><th class="num">Δ</th><th class="num">95% interval of Δ</th><th>Difference</th></tr></thead><tbody>${rows.join('')}</tbody></table>
<p class="muted">Items that flipped (a query is a hit when ${hit}):</p>
${flips('Fixed', c.fixed, c.totals.fixed)}${flips('Broken', c.broken, c.totals.broken)}`;
}

function summarySection(s: EvalSummary, task: EvalRun['task']): string {
  if (task === 'nlvr2') {
    const c = s.confusion;
    if (!c) return '';
    const total = c.trueTrue + c.trueFalse + c.falseTrue + c.falseFalse;
    const cell = (n: number, right: boolean, id: string) =>
      `<td class="num ${right ? 'better' : 'worse'}" data-confusion="${id}">${fmtInt(n)} <span class="muted">(${total ? ((100 * n) / total).toFixed(1) : '0.0'}%)</span></td>`;
    const W = 200;
    const max = Math.max(1, c.trueTrue, c.trueFalse, c.falseTrue, c.falseFalse);
    const sq = (n: number, x: number, y: number, right: boolean) =>
      `<rect x="${x}" y="${y}" width="${W / 2 - 4}" height="${W / 2 - 4}" fill="${right ? '#137333' : '#b3261e'}" fill-opacity="${(0.1 + (0.8 * n) / max).toFixed(3)}"/><text x="${x + W / 4 - 2}" y="${y + W / 4}" text-anchor="middle" font-size="14">${fmtInt(n)}</text>`;
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${W}" width="${W}" height="${W}" role="img" aria-label="Confusion matrix">${sq(c.trueTrue, 0, 0, true)}${sq(c.trueFalse, W / 2, 0, false)}${sq(c.falseTrue, 0, W / 2, false)}${sq(c.falseFalse, W / 2, W / 2, true)}</svg>`;
    return `<h2>Confusion matrix</h2><div class="hists"><table data-table="confusion"><thead><tr><th>Label ↓ · Prediction →</th><th class="num">True</th><th class="num">False</th></tr></thead><tbody><tr><th>True</th>${cell(c.trueTrue, true, 'trueTrue')}${cell(c.trueFalse, false, 'trueFalse')}</tr><tr><th>False</th>${cell(c.falseTrue, false, 'falseTrue')}${cell(c.falseFalse, true, 'falseFalse')}</tr></tbody></table>${svg}</div>`;
  }
  const h = (kind: 'caption' | 'image', what: 'rank' | 'margin') =>
    s.histograms.find((x) => x.kind === kind && x.what === what)?.bins ?? [];
  const missed = (kind: 'caption' | 'image', at: number) =>
    s.missed.find((m) => m.kind === kind && m.at === at)?.count ?? 0;
  const misses = (['caption', 'image'] as const)
    .flatMap((kind) =>
      [1, 5, 10].map(
        (at) =>
          `<li data-missed="${kind}@${at}">${kind === 'caption' ? 'Captions' : 'Images'} missed at R@${at}: <strong>${fmtInt(missed(kind, at))}</strong> of ${fmtInt(s.totals[kind] ?? 0)}</li>`,
      ),
    )
    .join('');
  return `<h2>Where the ground truth ranks</h2><div class="hists">
${histogram("Rank of each caption's image", h('caption', 'rank'), (b) => b.from === 1, 'caption-rank')}
${histogram("Rank of each image's best caption", h('image', 'rank'), (b) => b.from === 1, 'image-rank')}
${histogram('Caption margin: own image − best other', h('caption', 'margin'), (b) => b.to <= 0, 'caption-margin')}
${histogram('Image margin: own caption − best other', h('image', 'margin'), (b) => b.to <= 0, 'image-margin')}
</div><ul>${misses}</ul>`;
}

function slicesSection(all: FailureSlices[]): string {
  const one = (f: FailureSlices) => {
    const what =
      f.kind === 'caption' ? 'Caption queries (IR)' : f.kind === 'image' ? 'Image queries (TR)' : 'NLVR2 examples';
    const head = `<h3>${what}, by ${esc(metricLabel(f.metric))}</h3><p class="muted">${esc(metricLabel(f.metric))} over all ${fmtInt(f.whole.size)} queries: ${f.whole.metric.toFixed(1)}% (${range(f.whole.ci95, (v) => v.toFixed(1))}); groups of at least ${fmtInt(f.minSupport)} queries, ${fmtInt(f.candidates)} looked at, ${fmtInt(f.tested)} tested.</p>`;
    if (f.slices.length === 0)
      return `${head}<p class="muted">No group of at least ${f.minSupport} queries does worse than the whole run.</p>`;
    const rows = f.slices
      .map((s) => {
        const missed = s.missed
          .slice(0, 5)
          .map(
            (m) =>
              `<li><span class="muted">${f.kind === 'nlvr2' ? 'wrong' : `#${m.rank + 1}`}</span> ${esc(m.text ?? m.key)}</li>`,
          )
          .join('');
        return `<tr data-slice="${esc(`${s.feature}:${s.value}`)}"><td>${esc(s.label)}${missed ? `<ul class="muted">${missed}</ul>` : ''}</td><td class="num">${fmtInt(s.size)} <span class="muted">(${fmtInt(s.missedCount)} missed)</span></td><td class="num">${s.metric.toFixed(1)}%<span class="ci">${range(s.ci95, (v) => v.toFixed(1))}</span></td><td class="num ${s.gapBound < 0 ? 'worse' : ''}">${pp(s.gap)}<span class="ci">${range(s.gapCi95, pp)}</span></td><td class="${s.gapBound < 0 ? 'worse' : 'muted'}">${s.gapBound < 0 ? 'worse' : 'may be chance'}</td></tr>`;
      })
      .join('');
    return `${head}<table data-table="slices-${f.kind}"><thead><tr><th>Group</th><th class="num">Queries</th><th class="num">${esc(metricLabel(f.metric))}</th><th class="num">Gap to all (points)</th><th>Across ${fmtInt(f.tested)} groups</th></tr></thead><tbody>${rows}</tbody></table>`;
  };
  return `<h2>Failure slices</h2><p class="muted">Groups of queries whose metric falls furthest below the whole run's, ranked by the family-wise 95% bound of the gap (Bonferroni over the groups tested); “worse” holds even allowing for every group looked at.</p>${all.map(one).join('')}`;
}

function changedSection(all: ChangedSlices[]): string {
  if (all.length === 0) return '';
  const one = (c: ChangedSlices) => {
    const what =
      c.kind === 'caption' ? 'Caption queries (IR)' : c.kind === 'image' ? 'Image queries (TR)' : 'NLVR2 examples';
    const head = `<h3>${what}, by ${esc(metricLabel(c.metric))}</h3><p class="muted">Run ${c.b} against run ${c.a} over ${fmtInt(c.queries)} queries: ${pp(c.whole.delta)} (${range(c.whole.ci95, pp)}); ${fmtInt(c.tested)} groups of at least ${fmtInt(c.minSupport)} queries tested.</p>`;
    const table = (title: string, rows: ChangedSlices['fixed']) =>
      rows.length === 0
        ? `<p class="muted">${title}: none.</p>`
        : `<table data-table="changed-${title === 'Fixed most' ? 'fixed' : 'broken'}-${c.kind}"><thead><tr><th>${title}</th><th class="num">Queries</th><th class="num">Run ${c.a} → run ${c.b}</th><th class="num">Δ (points)</th><th class="num">Fixed / broken</th><th>Difference</th></tr></thead><tbody>${rows
            .map(
              (s) =>
                `<tr data-slice="${esc(`${s.feature}:${s.value}`)}"><td>${esc(s.label)}</td><td class="num">${fmtInt(s.size)}</td><td class="num">${s.a.toFixed(1)}% → ${s.b.toFixed(1)}%</td><td class="num">${pp(s.delta)}<span class="ci">${range(s.ci95, pp)}</span></td><td class="num">${fmtInt(s.fixedCount)} / ${fmtInt(s.brokenCount)}</td><td class="${s.significance === 'better' ? 'better' : s.significance === 'worse' ? 'worse' : 'muted'}">${esc(s.significance)}</td></tr>`,
            )
            .join('')}</tbody></table>`;
    return `${head}${table('Fixed most', c.fixed)}${table('Broken most', c.broke)}`;
  };
  return `<h2>Slices that changed most</h2><p class="muted">The failure slices' groups whose metric moved most between the two runs, ranked by the end of the paired difference's family-wise 95% bound nearest 0; each Δ with its paired-bootstrap 95% interval.</p>${all.map(one).join('')}`;
}

function thumb(t: { label: string; src: string | null }): string {
  return t.src
    ? `<span class="thumb"><img src="${t.src}" alt="${esc(t.label)}">${esc(t.label)}</span>`
    : `<span class="thumb"><span class="ph">no image</span>${esc(t.label)}</span>`;
}

function worstSection(w: ReportData['worst'][number]): string {
  const title =
    w.kind === 'nlvr2'
      ? 'Wrong NLVR2 predictions, most confident first'
      : w.kind === 'caption'
        ? 'Caption queries missed at R@1, largest negative margin first'
        : 'Image queries missed at R@1, largest negative margin first';
  const li = w.items
    .map(({ item: it, firstCandidate, nlvr2, images }) => {
      let rank: string;
      let detail: string;
      if (nlvr2) {
        const word = (b: boolean | null) => (b === null ? 'unlabelled' : b ? 'True' : 'False');
        const conf = nlvr2.prediction ? nlvr2.probability : 1 - nlvr2.probability;
        rank = 'wrong';
        detail = `label ${word(nlvr2.label)}, predicted ${word(nlvr2.prediction)} (${(100 * conf).toFixed(1)}% sure), p(True) ${nlvr2.probability.toFixed(3)}`;
      } else {
        rank = it.rank === null ? '—' : `#${it.rank + 1}`;
        detail = `score margin ${(-it.mistakenness).toFixed(3)}${firstCandidate ? `; ranked first: “${esc(firstCandidate)}”` : ''}`;
      }
      return `<li data-item="${esc(`${it.kind}:${it.key}`)}"><span class="thumbs">${images.map(thumb).join('')}</span><span class="rank">${rank}</span><span><span class="muted">${esc(it.kind)} ${esc(it.key)}${it.split ? ` · ${esc(it.split)}` : ''}</span><br><span class="text">${esc(it.text ?? it.key)}</span><br><span class="muted">${detail}</span></span></li>`;
    })
    .join('');
  const note =
    w.total > w.items.length ? `<p class="muted">The first ${fmtInt(w.items.length)} of ${fmtInt(w.total)}.</p>` : '';
  return `<h3>${title} <span class="muted">${fmtInt(w.total)}</span></h3>${w.items.length ? `<ul class="items" data-worst="${w.kind}">${li}</ul>${note}` : '<p class="muted">None.</p>'}`;
}

function value(v: unknown): string {
  return esc(typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));
}

function cardSection(card: ModelCard | null, run: EvalRun): string {
  if (!card)
    return `<h3>${esc(run.modelName)} ${esc(run.modelVersion)}</h3><dl><dt>Folder</dt><dd>${esc(run.modelDir)}</dd><dt>Registered</dt><dd>no: evaluated from its folder; no card</dd></dl>`;
  const m = card.model;
  const arch = Object.entries(m.architecture)
    .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${value(v)}</dd>`)
    .join('');
  const results = card.versions
    .filter((v) => v.modelId === m.id)
    .flatMap((v) => v.results)
    .map(
      (r) =>
        `<li>run ${r.runId}: ${esc(r.task)} on dataset ${r.datasetId} (${esc(splitName(r.split))}): ${Object.entries(
          r.metrics,
        )
          .filter(([k]) => !k.startsWith('itc_'))
          .map(([k, x]) => `${esc(metricLabel(k))} ${pct(x)}`)
          .join(', ')}</li>`,
    )
    .join('');
  return `<h3 data-card="${m.id}">${esc(m.name)} ${esc(m.version)}</h3><dl>
<dt>Folder</dt><dd>${esc(m.dir)}</dd><dt>Source</dt><dd>${esc(m.sourcePath)}</dd>
${m.sourceSha256 ? `<dt>Source SHA-256</dt><dd>${esc(m.sourceSha256)}</dd>` : ''}
<dt>Size</dt><dd>${fmtBytes(m.sizeBytes)}</dd><dt>Registered</dt><dd>${esc(m.createdAt)}${m.removedAt ? ` (removed ${esc(m.removedAt)})` : ''}</dd>
<dt>Parent</dt><dd>${card.parent ? `${esc(card.parent.name)} ${esc(card.parent.version)}${card.parent.removed ? ' (removed)' : ''}` : '—'}</dd>
<dt>Runs here on</dt><dd>${esc(card.provider.provider)} — ${esc(card.provider.reason)}</dd>
<dt>Evaluation runs</dt><dd>${fmtInt(card.runs.length)}</dd>${arch}</dl>${results ? `<p class="muted">Newest result per dataset and split:</p><ul>${results}</ul>` : ''}`;
}

function datasetSection(d: Dataset, s: EvalSummary, run: EvalRun): string {
  const splits = Object.entries(d.splits)
    .map(
      ([name, c]) =>
        `<tr data-split="${esc(name)}"><td>${esc(name)}${name === run.split ? ' <strong>(evaluated)</strong>' : ''}</td><td class="num">${c.images === undefined ? '—' : fmtInt(c.images)}</td><td class="num">${c.captions === undefined ? '—' : fmtInt(c.captions)}</td><td class="num">${c.examples === undefined ? '—' : fmtInt(c.examples)}</td></tr>`,
    )
    .join('');
  const queries = Object.entries(s.totals)
    .map(([k, n]) => `${fmtInt(n)} ${esc(k)}${n === 1 ? '' : k === 'nlvr2' ? ' examples' : 's'}`)
    .join(', ');
  return `<h2>Data snapshot</h2><dl data-dataset="${d.id}">
<dt>Dataset</dt><dd>${esc(d.name)} <span class="muted">(${esc(d.kind)}, id ${d.id})</span></dd><dt>Root</dt><dd>${esc(d.root)}</dd>
<dt>Imported</dt><dd>${esc(d.importedAt)}${d.refreshedAt ? `, refreshed ${esc(d.refreshedAt)}` : ''}</dd>
<dt>Counts</dt><dd>${fmtInt(d.images)} images, ${fmtInt(d.captions)} captions, ${fmtInt(d.examples)} NLVR2 examples, ${fmtInt(d.missingImages)} missing images</dd>
<dt>Evaluated split</dt><dd>${esc(splitName(run.split))}: ${queries || '—'}</dd></dl>
<table data-table="splits"><thead><tr><th>Split</th><th class="num">Images</th><th class="num">Captions</th><th class="num">Examples</th></tr></thead><tbody>${splits}</tbody></table>`;
}

export function renderReport(d: ReportData): string {
  const { run, other, comparison } = d;
  const title = comparison
    ? `Run ${run.id} against run ${comparison.a.id}: ${run.task === 'nlvr2' ? 'NLVR2' : 'retrieval'} on ${d.dataset.name} (${splitName(run.split)})`
    : `Run ${run.id}: ${run.task === 'nlvr2' ? 'NLVR2' : 'retrieval'} on ${d.dataset.name} (${splitName(run.split)})`;
  const cards = [
    cardSection(d.card, run),
    other && other.modelDir !== run.modelDir ? cardSection(d.otherCard, other) : '',
  ].join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(`MoME Studio report — ${title}`)}</title><style>${STYLE}</style></head>
<body data-run="${run.id}"${comparison ? ` data-compare="${comparison.a.id}"` : ''}>
<h1>${esc(title)}</h1>
<p class="muted">MoME Studio ${esc(d.appVersion)} · generated ${esc(d.generatedAt)} · model ${esc(run.modelName)} ${esc(run.modelVersion)}</p>
<h2>Metrics</h2>${metricsTable(other ? [run, other] : [run])}
${comparison ? comparisonSection(comparison) : ''}
${summarySection(d.summary, run.task)}
${slicesSection(d.slices)}
${changedSection(d.changed)}
<h2>Worst ${run.task === 'nlvr2' ? 'predictions' : 'queries'} of run ${run.id}</h2>
${d.worst.map(worstSection).join('')}
<h2>Model</h2>${cards}
${datasetSection(d.dataset, d.summary, run)}
<footer>One self-contained file: no scripts, no network; thumbnails (${fmtInt(d.thumbnails)}, ${96} px) are embedded.</footer>
</body></html>
`;
}
