// A label edit makes the views re-read once: the reply to the edit and the backend's echo of it (dataChanged)
// name the same label event, in either order. Another window's or process's edit still makes them re-read.
// Real parts: the labels store, the event routing of the app, and the window.mome builder, over a fake transport.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildMomeClient, type MomeClient } from '../../electron/api/client';
import { followBackendEvents } from '../../renderer/src/backend-events';
import { useLabels } from '../../renderer/src/features/labels/store';

const datasetId = 1;
let client: MomeClient;
let lastId = 0;
let echo: 'before-reply' | 'after-reply';
let unfollow: () => void;

/** The backend's side of one label write: the event it appends and the dataChanged it announces. */
function write(datasetIds = [datasetId]) {
  const written = datasetIds.map((d) => ({ id: ++lastId, datasetId: d, kind: 'caption', key: '1', field: 'flag' }));
  const announce = () => {
    for (const id of new Set(datasetIds))
      client.emit('dataChanged', { entity: 'labels', id, labelEventId: Math.max(...written.map((e) => e.id)) });
  };
  return { written, announce };
}

beforeEach(() => {
  echo = 'after-reply';
  client = buildMomeClient(async (method, args) => {
    const edits = (args as { edits?: { datasetId: number }[] }).edits;
    const { written, announce } = write(edits?.map((e) => e.datasetId));
    if (echo === 'before-reply') announce();
    else setTimeout(announce, 0);
    return method === 'editLabels' ? written : written[0];
  });
  (globalThis as unknown as { window: unknown }).window = { mome: client.api };
  unfollow = followBackendEvents(client.api);
  useLabels.setState({ version: 0, seenEventId: lastId });
});
afterEach(() => unfollow());

const settle = () => new Promise((r) => setTimeout(r, 10));
const edit = (datasetIds = [datasetId]) =>
  useLabels.getState().edit(
    datasetIds.map((d) => ({ datasetId: d, kind: 'caption', key: '1', field: 'flag', value: 'bad' })),
    'browse',
  );

describe('label re-reads', () => {
  it('an edit whose echo comes after the reply re-reads once', async () => {
    await edit();
    await settle();
    expect(useLabels.getState().version).toBe(1);
  });

  it('an edit whose echo comes before the reply re-reads once', async () => {
    echo = 'before-reply';
    await edit();
    await settle();
    expect(useLabels.getState().version).toBe(1);
  });

  it('an edit of two datasets, echoed for each before the reply, re-reads once', async () => {
    echo = 'before-reply';
    await edit([datasetId, 2]);
    await settle();
    expect(useLabels.getState().version).toBe(1);
  });

  it('undo, redo and revert re-read once each', async () => {
    await useLabels.getState().undo();
    echo = 'before-reply';
    await useLabels.getState().redo();
    await useLabels.getState().revert(lastId);
    await settle();
    expect(useLabels.getState().version).toBe(3);
  });

  it("another window's edit, announced with a newer label event, re-reads", async () => {
    await edit();
    await settle();
    write().announce(); // written through another client of the same backend
    expect(useLabels.getState().version).toBe(2);
  });

  it("another process's edit, announced without a label event, re-reads", () => {
    client.emit('dataChanged', { entity: 'labels', id: datasetId });
    expect(useLabels.getState().version).toBe(1);
  });

  it('an echo that arrives after a newer change was re-read needs no re-read of its own', async () => {
    const older = write();
    write().announce();
    older.announce();
    expect(useLabels.getState().version).toBe(1);
  });
});
