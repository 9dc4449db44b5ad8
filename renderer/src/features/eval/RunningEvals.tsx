// Evaluation jobs of this task under way (encoding, scoring): progress with ETA, and cancel. Finished ones
// appear as runs in the table below.
import type { Job } from '../../../../electron/api/schemas';
import { JobRow } from '../jobs/JobRow';
import { useNow } from '../../components/useNow';
import { useJobs } from '../jobs/store';

export function RunningEvals({ task, datasetId }: { task: 'retrieval' | 'nlvr2'; datasetId: number }) {
  const byId = useJobs((s) => s.byId);
  const now = useNow(1000);
  const mine = (j: Job) => {
    const p = (j.params ?? {}) as { task?: string; datasetId?: number };
    return j.kind === 'evaluation' && p.task === task && p.datasetId === datasetId;
  };
  // running ones, and a failure of the last minute (with its reason)
  const shown = Object.values(byId).filter(
    (j) =>
      mine(j) &&
      (j.state === 'running' ||
        j.state === 'queued' ||
        (j.state === 'failed' && now - Date.parse(j.finishedAt ?? '') < 60_000)),
  );
  if (shown.length === 0) return null;
  return (
    <table className="table compact" data-testid="eval-jobs">
      <tbody>
        {shown.map((j) => (
          <JobRow key={j.id} job={j} now={now} />
        ))}
      </tbody>
    </table>
  );
}
