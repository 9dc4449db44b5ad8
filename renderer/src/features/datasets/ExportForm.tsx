// Export a dataset with its corrections: the original format, a README of what changed and labels.jsonl, to a
// new folder (the originals are never touched). Runs as a job; its result lists the files and the changes.
import { useState } from 'react';
import type { Dataset, Job } from '../../../../electron/api/schemas';
import { mome } from '../../api/mome';
import { useJobs } from '../jobs/store';
import { toastError } from '../../stores/toasts';
import { PathField } from '../../components/PathField';

interface ExportResult {
  out: string;
  files: string[];
  changes: Record<string, number>;
  hardNegatives: number;
  extraPositives: number;
}

export function ExportForm({ dataset, onClose }: { dataset: Dataset; onClose(): void }) {
  const [out, setOut] = useState(`${dataset.root.replace(/\/+$/, '')}-corrected`);
  const [jobId, setJobId] = useState<number | null>(null);
  const job = useJobs((s) => (jobId === null ? undefined : s.byId[jobId])) as Job | undefined;
  const result = job?.state === 'succeeded' ? (job.result as ExportResult) : null;

  const start = async () => {
    try {
      const j = await mome().startDatasetExport({ datasetId: dataset.id, out: out.replace(/\/+$/, '') });
      useJobs.getState().apply(j);
      setJobId(j.id);
    } catch (e) {
      toastError(e);
    }
  };
  return (
    <section className="card" aria-label={`export ${dataset.name}`} data-testid="export-form">
      <h2 className="section">Export {dataset.name} with its corrections</h2>
      <p className="muted">
        Writes {dataset.kind === 'nlvr2' ? 'NLVR2 json-lines' : `dataset_${dataset.kind}.json`}, a README of what
        changed and labels.jsonl (every correction and hard negative, with author, time, view and evaluation run) to a
        new or empty folder outside the dataset. Image folders are linked; the originals are never modified.
      </p>
      <div className="row">
        <PathField
          value={out}
          onChange={setOut}
          label="Export to folder"
          pick={{ kind: 'folder', title: 'Choose an empty folder for the export' }}
        />
        <button type="button" disabled={!out.startsWith('/') || job?.state === 'running'} onClick={() => void start()}>
          Export
        </button>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
      {job && job.state !== 'succeeded' && (
        <p className={job.state === 'failed' ? 'error' : 'muted'} data-testid="export-state">
          {job.state}: {job.error ?? job.message}
        </p>
      )}
      {result && (
        <dl className="facts" data-testid="export-result">
          <dt>Folder</dt>
          <dd className="path">{result.out}</dd>
          <dt>Files</dt>
          <dd>{result.files.join(', ')}</dd>
          {Object.entries(result.changes).map(([k, n]) => (
            <div key={k} style={{ display: 'contents' }}>
              <dt>{k}</dt>
              <dd className="num">{n}</dd>
            </div>
          ))}
          <dt>Hard negatives</dt>
          <dd className="num">{result.hardNegatives}</dd>
          <dt>Extra positives</dt>
          <dd className="num">{result.extraPositives}</dd>
        </dl>
      )}
    </section>
  );
}
