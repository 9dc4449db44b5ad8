import { JobTable } from './JobRow';
import { useNow } from '../../components/useNow';
import { selectJobsNewestFirst, useJobs } from './store';
import { useShallow } from 'zustand/react/shallow';

export function JobsView() {
  const jobs = useJobs(useShallow(selectJobsNewestFirst));
  const now = useNow();
  return (
    <section className="view">
      <JobTable jobs={jobs} now={now} />
    </section>
  );
}
