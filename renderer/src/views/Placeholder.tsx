// Views whose feature has not arrived yet say so plainly, with what to do meanwhile.
const TEXT: Record<string, { what: string; next: string }> = {
  finetune: {
    what: 'One-click fine-tuning on your corrections and hard negatives, with live loss curves, and a before/after comparison of the new model version.',
    next: 'Arrives with the fine-tuning feature.',
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
