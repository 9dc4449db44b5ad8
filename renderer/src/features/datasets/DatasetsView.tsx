import { useEffect, useState } from 'react';
import type { FolderScan, Job } from '../../../../electron/api/schemas';
import { ExportForm } from './ExportForm';
import { JobTable } from '../jobs/JobRow';
import { PathField } from '../../components/PathField';
import { useNow } from '../../components/useNow';
import { fmtBytes, fmtInt } from '../../format';
import { useDatasets } from './store';
import { useJobs } from '../jobs/store';
import { useNav } from '../../stores/nav';
import { useFineTune } from '../finetune/store';

function ScanResult({ scan }: { scan: FolderScan }) {
  return (
    <dl className="facts" data-testid="scan-result">
      <dt>Files</dt>
      <dd className="num">{fmtInt(scan.files)}</dd>
      <dt>Images</dt>
      <dd className="num">{fmtInt(scan.images)}</dd>
      <dt>Folders</dt>
      <dd className="num">{fmtInt(scan.directories)}</dd>
      <dt>Size</dt>
      <dd className="num">{fmtBytes(scan.bytes)}</dd>
      <dt>Detected</dt>
      <dd>{scan.detectedKind ?? 'not a dataset folder'}</dd>
      <dt>Annotations</dt>
      <dd>{scan.annotationFiles.join(', ') || '—'}</dd>
      {scan.unreadable.length > 0 && (
        <>
          <dt>Unreadable</dt>
          <dd>{scan.unreadable.slice(0, 5).join('; ')}</dd>
        </>
      )}
    </dl>
  );
}

export function DatasetsView() {
  const [path, setPath] = useState('');
  const [kind, setKind] = useState<'' | 'coco' | 'flickr30k' | 'nlvr2'>('');
  const [jobIds, setJobIds] = useState<number[]>([]);
  const [exporting, setExporting] = useState<number | null>(null);
  const datasets = useDatasets((s) => s.list);
  const load = useDatasets((s) => s.load);
  const startImport = useDatasets((s) => s.startImport);
  const remove = useDatasets((s) => s.remove);
  const select = useDatasets((s) => s.select);
  const go = useNav((s) => s.go);
  const startScan = useJobs((s) => s.startScan);
  const byId = useJobs((s) => s.byId);
  const now = useNow();
  const myJobs = jobIds.map((id) => byId[id]).filter((j): j is Job => Boolean(j));
  const lastScan = myJobs.find((j) => j.kind === 'folder-scan' && j.state === 'succeeded');

  useEffect(() => {
    void load();
  }, [load]);
  const track = (job: Job | null) => job && setJobIds((ids) => [job.id, ...ids]);
  const folder = path.replace(/\/+$/, '') || '/';

  return (
    <section className="view">
      <h2 className="section">Datasets</h2>
      {datasets.length === 0 ? (
        <p className="empty">
          No dataset imported yet. Import your COCO (dataset_coco.json + train2014/ val2014/), Flickr30K or NLVR2 folder
          below.
        </p>
      ) : (
        <table className="table" data-testid="dataset-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Kind</th>
              <th className="num">Images</th>
              <th className="num">Captions</th>
              <th className="num">NLVR2 examples</th>
              <th className="num">Missing files</th>
              <th>Splits</th>
              <th>Folder</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {datasets.map((d) => (
              <tr key={d.id}>
                <td>{d.name}</td>
                <td>{d.kind}</td>
                <td className="num">{fmtInt(d.images)}</td>
                <td className="num">{fmtInt(d.captions)}</td>
                <td className="num">{fmtInt(d.examples)}</td>
                <td className="num">{fmtInt(d.missingImages)}</td>
                <td>
                  {Object.entries(d.splits)
                    .map(([s, c]) => `${s} ${fmtInt(c.images ?? c.examples ?? 0)}`)
                    .join(' · ')}
                </td>
                <td className="path">{d.root}</td>
                <td className="actions">
                  <button
                    type="button"
                    onClick={() => {
                      select(d.id);
                      go('browse');
                    }}
                  >
                    Browse
                  </button>
                  <button type="button" onClick={() => void startImport(d.root, d.kind, true).then(track)}>
                    Refresh
                  </button>
                  <button type="button" onClick={() => setExporting(d.id)}>
                    Export
                  </button>
                  <button
                    type="button"
                    title="Fine-tune the active model on this dataset with its corrections and hard negatives"
                    onClick={() => {
                      void useFineTune.getState().setDataset(d.id);
                      go('finetune');
                    }}
                  >
                    Fine-tune
                  </button>
                  <button
                    type="button"
                    onClick={() => {
                      if (confirm(`Remove ${d.name} from MoME Studio? Files on disk stay; labels are kept.`))
                        void remove(d.id);
                    }}
                  >
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      {exporting !== null && datasets.some((d) => d.id === exporting) && (
        <ExportForm
          key={exporting}
          dataset={datasets.find((d) => d.id === exporting)!}
          onClose={() => setExporting(null)}
        />
      )}
      <h2 className="section">Import or scan a folder</h2>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          void startImport(folder, kind || undefined).then(track);
        }}
      >
        <PathField
          value={path}
          onChange={setPath}
          label="Dataset folder"
          pick={{ kind: 'folder', title: 'Choose a dataset folder' }}
        />
        <select aria-label="Dataset kind" value={kind} onChange={(e) => setKind(e.target.value as typeof kind)}>
          <option value="">Detect kind</option>
          <option value="coco">COCO (Karpathy)</option>
          <option value="flickr30k">Flickr30K (Karpathy)</option>
          <option value="nlvr2">NLVR2</option>
        </select>
        <button type="submit" disabled={!path.startsWith('/')}>
          Import
        </button>
        <button type="button" disabled={!path.startsWith('/')} onClick={() => void startScan(folder).then(track)}>
          Scan folder
        </button>
      </form>
      {myJobs.length > 0 && <JobTable jobs={myJobs} now={now} />}
      {lastScan && <ScanResult scan={lastScan.result as FolderScan} />}
    </section>
  );
}
