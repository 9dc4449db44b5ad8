import { useApp } from '../stores/app';
import { selectRunningCount, useJobs } from '../features/jobs/store';
import { useNav } from '../stores/nav';

export function StatusBar({ onJobs }: { onJobs: () => void }) {
  const info = useApp((s) => s.info);
  const running = useJobs(selectRunningCount);
  const theme = useNav((s) => s.theme);
  const toggleTheme = useNav((s) => s.toggleTheme);
  const model = info?.activeModel;
  return (
    <footer className="statusbar" aria-label="status bar">
      <span data-testid="status-model">Model: {model ? `${model.name} (${model.version})` : 'No model active'}</span>
      <span data-testid="status-provider" title={model?.providerReason ?? ''}>
        Provider: {model ? model.provider.toUpperCase() : '—'}
      </span>
      <span data-testid="status-mode">
        {info ? (info.mode === 'electron' ? 'Desktop' : 'Browser mode') : 'Connecting…'}
      </span>
      <button type="button" className="link" onClick={onJobs} data-testid="status-jobs">
        {running > 0 ? `${running} job${running > 1 ? 's' : ''} running` : 'No jobs running'}
      </button>
      <span className="spacer" />
      <button type="button" className="link" onClick={toggleTheme} aria-label="toggle theme">
        {theme === 'dark' ? 'Light theme' : 'Dark theme'}
      </button>
      <span className="muted">Press ? for shortcuts</span>
    </footer>
  );
}
