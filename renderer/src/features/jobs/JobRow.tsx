import type { Job } from '../../../../electron/api/schemas';
import { fmtDuration } from '../../format';
import { useJobs } from './store';
import { ProgressBar } from '../../components/ProgressBar';

export function JobRow({ job, now }: { job: Job; now: number }) {
  const cancel = useJobs((s) => s.cancel);
  const started = job.startedAt ? Date.parse(job.startedAt) : null;
  const ended = job.finishedAt ? Date.parse(job.finishedAt) : now;
  const running = job.state === 'running' || job.state === 'queued';
  return (
    <tr data-job-id={job.id} data-state={job.state}>
      <td className="num">{job.id}</td>
      <td>{job.kind}</td>
      <td>{job.title}</td>
      <td>
        <span className={`state state-${job.state}`}>{job.state}</span>
      </td>
      <td className="progress-cell">
        <ProgressBar value={job.progress} label={`${job.title} progress`} />
      </td>
      <td className="message">
        {job.error ?? job.message}
        {running && started && job.progress > 0.02 && job.progress < 1 && (
          <span className="muted"> · ETA {fmtDuration(((now - started) * (1 - job.progress)) / job.progress)}</span>
        )}
      </td>
      <td className="num">{started ? fmtDuration(ended - started) : '—'}</td>
      <td>
        {running && (
          <button type="button" onClick={() => void cancel(job.id)}>
            Cancel
          </button>
        )}
      </td>
    </tr>
  );
}

export function JobTable({ jobs, now }: { jobs: Job[]; now: number }) {
  if (jobs.length === 0)
    return (
      <p className="empty">
        No jobs yet. Long work (scans, imports, evaluations, fine-tunes) shows up here with live progress.
      </p>
    );
  return (
    <table className="table jobs-table">
      <thead>
        <tr>
          <th className="num">#</th>
          <th>Kind</th>
          <th>Job</th>
          <th>State</th>
          <th>Progress</th>
          <th>Message</th>
          <th className="num">Time</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {jobs.map((j) => (
          <JobRow key={j.id} job={j} now={now} />
        ))}
      </tbody>
    </table>
  );
}
