// Views whose feature has not arrived yet say so plainly, with what to do meanwhile.
const TEXT: Record<string, { what: string; next: string }> = {
  retrieval: {
    what: 'Image-text retrieval runs with the active model: TR and IR R@1/5/10 as the paper computes them, the worst queries first, each caption next to its true image and the top-10 images.',
    next: 'The evaluation view arrives with the evaluation feature. Until then: import a dataset in Datasets and look at it in Browse.',
  },
  nlvr2: {
    what: 'NLVR2 predictions on dev / test1: accuracy, a confusion matrix and the wrong predictions by confidence, each pair side by side with its sentence.',
    next: 'Arrives with the evaluation feature. NLVR2 examples can already be browsed in Browse.',
  },
  finetune: {
    what: 'One-click fine-tuning on your corrections and hard negatives, with live loss curves, and a before/after comparison of the new model version.',
    next: 'Arrives with the fine-tuning feature.',
  },
  models: {
    what: 'Imported VLMo checkpoints and model folders as immutable versions with their cards, metrics per dataset, and the active model.',
    next: 'Arrives with the model registry. The status bar shows the active model once there is one.',
  },
};

export function PlaceholderView({ id }: { id: keyof typeof TEXT }) {
  const t = TEXT[id];
  return (
    <section className="view">
      <div className="empty" data-testid={`empty-${id}`}>
        <p>{t.what}</p>
        <p className="muted">{t.next}</p>
      </div>
    </section>
  );
}
