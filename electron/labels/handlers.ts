// The label methods of MomeApi: edits, undo, redo and revert on the label history, and what it holds. Writes
// wait for the write lock without blocking the event loop (a dataset worker may hold it); every write announces
// the datasets whose labels changed, with the newest label event it wrote (a store that has seen that event, from
// the reply to its own edit, does not re-read on the echo).
import os from 'node:os';
import type { Handlers } from '../api/dispatch';
import type { EventHub } from '../api/events';
import type { Db } from '../store/db';
import type { WriteGate } from '../store/write-gate';
import { agreement, conflicts, reviewRequired, setReviewRequired, setUserName, userName } from './adjudication';
import type { LabelHistory, Provenance } from './history';
import { createSnapshot, diffSnapshots, listSnapshots, restoreSnapshot } from './snapshots';

type LabelHandlers = Pick<
  Handlers,
  | 'countLabels'
  | 'editLabels'
  | 'undoLabel'
  | 'redoLabel'
  | 'revertLabel'
  | 'listLabelEvents'
  | 'getLabelState'
  | 'getLabelSettings'
  | 'setLabelSettings'
  | 'listLabelFields'
  | 'reviewLabel'
  | 'getLabelAgreement'
  | 'createLabelSnapshot'
  | 'listLabelSnapshots'
  | 'diffLabelSnapshots'
  | 'restoreLabelSnapshot'
>;

export function labelHandlers(deps: {
  db: Db;
  labels: LabelHistory;
  gate: WriteGate;
  events: EventHub;
}): LabelHandlers {
  const { db, labels, gate, events } = deps;
  const author = defaultAuthor();
  // edits without a named author are the app's user's: the name set in Labels, else the OS user's
  const who = (p: Partial<Provenance>): Provenance => ({ ...p, author: p.author ?? userName(db) ?? author });
  const settings = () => ({ reviewRequired: reviewRequired(db), userName: userName(db), defaultUserName: author });
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
    getLabelSettings: () => settings(),
    setLabelSettings: async (s) => {
      await gate.run(() => {
        if (s.reviewRequired !== undefined) setReviewRequired(db, s.reviewRequired);
        if (s.userName !== undefined) setUserName(db, s.userName);
      });
      return settings();
    },
    listLabelFields: (q) => labels.fields(q),
    reviewLabel: async ({ eventId, decision, note, ...p }) => {
      const r = await gate.run(() => labels.review(eventId, decision, { ...who(p), note }));
      const e = labels.get(eventId);
      events.emit('dataChanged', { entity: 'labels', id: e.datasetId, labelEventId: r.event?.id });
      return r;
    },
    getLabelAgreement: ({ datasetId }) => ({
      agreement: agreement(db, datasetId),
      conflicts: conflicts(db, datasetId),
    }),
    createLabelSnapshot: async ({ datasetId, name, author: by }) =>
      gate.run(() => createSnapshot(db, { datasetId, name, author: who({ author: by }).author })),
    listLabelSnapshots: ({ datasetId }) => listSnapshots(db, datasetId),
    diffLabelSnapshots: ({ datasetId, fromId, toId, limit }) => diffSnapshots(db, datasetId, fromId, toId, limit),
    restoreLabelSnapshot: async ({ snapshotId, ...p }) => {
      const written = await gate.run(() =>
        restoreSnapshot(db, labels, snapshotId, { ...who(p), view: `restore snapshot ${snapshotId}` }),
      );
      if (written.length) changed(written);
      return written;
    },
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
