// The label methods of MomeApi: edits, undo, redo and revert on the label history, and what it holds. Writes
// wait for the write lock without blocking the event loop (a dataset worker may hold it); every write announces
// the datasets whose labels changed, with the newest label event it wrote (a store that has seen that event, from
// the reply to its own edit, does not re-read on the echo).
import os from 'node:os';
import type { Handlers } from '../api/dispatch';
import type { EventHub } from '../api/events';
import type { WriteGate } from '../store/write-gate';
import type { LabelHistory, Provenance } from './history';

type LabelHandlers = Pick<
  Handlers,
  'countLabels' | 'editLabels' | 'undoLabel' | 'redoLabel' | 'revertLabel' | 'listLabelEvents' | 'getLabelState'
>;

export function labelHandlers(deps: { labels: LabelHistory; gate: WriteGate; events: EventHub }): LabelHandlers {
  const { labels, gate, events } = deps;
  const author = defaultAuthor();
  const who = (p: Partial<Provenance>): Provenance => ({ ...p, author: p.author ?? author });
  const changed = (written: { id: number; datasetId: number }[]) => {
    const labelEventId = Math.max(...written.map((e) => e.id));
    for (const id of new Set(written.map((e) => e.datasetId)))
      events.emit('dataChanged', { entity: 'labels', id, labelEventId });
  };
  return {
    countLabels: ({ datasetId }) => ({ events: labels.count(datasetId) }),
    editLabels: async ({ edits, ...p }) => {
      const written = await gate.run(() => labels.edit(edits, who(p)));
      changed(written);
      return written;
    },
    undoLabel: async ({ datasetId, ...p }) => {
      const e = await gate.run(() => labels.undo(who(p), datasetId));
      if (e) changed([e]);
      return e;
    },
    redoLabel: async ({ datasetId, ...p }) => {
      const e = await gate.run(() => labels.redo(who(p), datasetId));
      if (e) changed([e]);
      return e;
    },
    revertLabel: async ({ eventId, ...p }) => {
      const e = await gate.run(() => labels.revert(eventId, who(p)));
      changed([e]);
      return e;
    },
    listLabelEvents: (q) => labels.list(q),
    getLabelState: ({ targets }) => labels.state(targets),
  };
}

/** Edits without a named author are the OS user's. */
function defaultAuthor(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'user';
  }
}
