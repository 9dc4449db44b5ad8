import { useEffect } from 'react';
import { mome } from './api/mome';
import { ErrorBoundary } from './components/ErrorBoundary';
import { HelpOverlay } from './components/HelpOverlay';
import { StatusBar } from './components/StatusBar';
import { Toasts } from './components/Toasts';
import { useApp } from './stores/app';
import { useJobs } from './features/jobs/store';
import { VIEWS, useNav, type ViewId } from './stores/nav';
import { BrowseView } from './features/browse/BrowseView';
import { DatasetsView } from './features/datasets/DatasetsView';
import { JobsView } from './features/jobs/JobsView';
import { LabelsView } from './features/labels/LabelsView';
import { EvaluationView } from './features/eval/EvaluationView';
import { ModelsView } from './features/models/ModelsView';
import { FineTuneView } from './features/finetune/FineTuneView';
import { ReviewView } from './features/review/ReviewView';
import { useLabels } from './features/labels/store';
import { isTyping } from './keys';
import { followBackendEvents } from './backend-events';

function View({ id }: { id: ViewId }) {
  switch (id) {
    case 'datasets':
      return <DatasetsView />;
    case 'browse':
      return <BrowseView />;
    case 'jobs':
      return <JobsView />;
    case 'labels':
      return <LabelsView />;
    case 'models':
      return <ModelsView />;
    case 'finetune':
      return <FineTuneView />;
    case 'retrieval':
      return <EvaluationView key="retrieval" task="retrieval" />;
    case 'nlvr2':
      return <EvaluationView key="nlvr2" task="nlvr2" />;
    case 'review':
      return <ReviewView />;
  }
}

export function App() {
  const view = useNav((s) => s.view);
  const go = useNav((s) => s.go);
  const theme = useNav((s) => s.theme);
  const toggleHelp = useNav((s) => s.toggleHelp);

  useEffect(() => {
    void useApp.getState().load();
    void useJobs.getState().load();
    return followBackendEvents(mome());
  }, []);

  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const typing = isTyping(e);
      if (e.altKey && !e.ctrlKey && !e.metaKey) {
        const v = VIEWS.find((x) => x.key === e.key || `Digit${x.key}` === e.code);
        if (v) {
          e.preventDefault();
          go(v.id);
        }
      } else if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'z' && !typing) {
        e.preventDefault();
        void (e.shiftKey ? useLabels.getState().redo() : useLabels.getState().undo());
      } else if (e.key === '?' && !typing) {
        toggleHelp();
      } else if (e.key === 'Escape') {
        toggleHelp(false);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [go, toggleHelp]);

  const current = VIEWS.find((v) => v.id === view)!;
  return (
    <div className="shell">
      <nav className="nav" aria-label="Main">
        <div className="brand">MoME Studio</div>
        {VIEWS.map((v) => (
          <button
            key={v.id}
            type="button"
            className={v.id === view ? 'active' : ''}
            aria-current={v.id === view ? 'page' : undefined}
            title={`Alt+${v.key}`}
            onClick={() => go(v.id)}
          >
            <span>{v.label}</span>
            <kbd>{v.key}</kbd>
          </button>
        ))}
      </nav>
      <main className="main" role="main">
        <header className="topbar">
          <h1>{current.label}</h1>
        </header>
        <ErrorBoundary key={view}>
          <View id={view} />
        </ErrorBoundary>
      </main>
      <StatusBar onJobs={() => go('jobs')} />
      <HelpOverlay />
      <Toasts />
    </div>
  );
}
