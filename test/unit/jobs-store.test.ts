// The renderer's job store: replies and events about one job can arrive in either order.
import { describe, expect, it } from 'vitest';
import type { Job } from '../../electron/api/schemas';
import { useJobs } from '../../renderer/src/features/jobs/store';

const job = (over: Partial<Job>): Job => ({
  id: 7,
  kind: 'dataset-export',
  title: 'Export dataset 1',
  state: 'running',
  progress: 0,
  message: '',
  createdAt: '2026-01-01T00:00:00Z',
  startedAt: '2026-01-01T00:00:00Z',
  finishedAt: null,
  error: null,
  params: {},
  result: null,
  ...over,
});

describe('job store', () => {
  it('keeps a finished job finished when the start reply arrives after the jobFinished event', () => {
    const finished = job({ state: 'succeeded', progress: 1, finishedAt: '2026-01-01T00:00:01Z', result: { n: 1 } });
    useJobs.getState().apply(finished);
    useJobs.getState().apply(job({ state: 'queued', startedAt: null }));
    expect(useJobs.getState().byId[7]).toEqual(finished);
  });

  it('takes progress and the finish of a running job', () => {
    useJobs.getState().apply(job({ id: 8, progress: 0.2 }));
    useJobs.getState().apply(job({ id: 8, progress: 0.6 }));
    expect(useJobs.getState().byId[8].progress).toBe(0.6);
    useJobs.getState().apply(job({ id: 8, state: 'failed', finishedAt: '2026-01-01T00:00:02Z', error: 'x' }));
    expect(useJobs.getState().byId[8].state).toBe('failed');
  });
});
