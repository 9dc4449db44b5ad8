// "Export report": the selected run (or the comparison shown) as one self-contained HTML file to share. The
// desktop app picks a folder with the native dialog; browser mode types a path (PathField) as elsewhere.
import { useState } from 'react';
import type { EvalReport } from '../../../../electron/api/schemas';
import { errorMessage, mome } from '../../api/mome';
import { PathField } from '../../components/PathField';
import { fmtBytes } from '../../format';
import { useApp } from '../../stores/app';

export function ReportExport({ runId, compareRunId }: { runId: number; compareRunId: number | null }) {
  const home = useApp((s) => s.info?.home);
  const name = compareRunId ? `mome-run-${runId}-vs-${compareRunId}.html` : `mome-run-${runId}.html`;
  const [open, setOpen] = useState(false);
  const [out, setOut] = useState('');
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<EvalReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  const target = out || `${home ?? ''}/${name}`;

  const write = async (file: string) => {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      setDone(await mome().exportEvalReport({ runId, ...(compareRunId ? { compareRunId } : {}), out: file }));
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="report-export" data-testid="report-export">
      <div className="row">
        <button type="button" onClick={() => setOpen(!open)} aria-expanded={open}>
          Export report…
        </button>
        {open && (
          <>
            <PathField
              value={target}
              onChange={setOut}
              label="Report file"
              files
              placeholder="/path/to/report.html"
              pick={{
                kind: 'folder',
                title: 'Choose a folder for the report',
                button: 'Choose folder…',
                take: (dir) => `${dir.replace(/\/+$/, '')}/${name}`,
              }}
            />
            <button type="button" disabled={busy || !target.startsWith('/')} onClick={() => void write(target)}>
              {busy ? 'Writing…' : compareRunId ? `Write run ${runId} vs ${compareRunId}` : `Write run ${runId}`}
            </button>
          </>
        )}
      </div>
      {done && (
        <p className="muted" data-testid="report-written">
          Written: <span className="path">{done.path}</span> ({fmtBytes(done.bytes)}, {done.thumbnails} thumbnails)
        </p>
      )}
      {error && <p className="error">{error}</p>}
    </div>
  );
}
