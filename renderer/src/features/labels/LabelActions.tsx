// Labeling inside the Browse item panel: one key per action, shown beside each button.
// Captions: J/K select, E edit, A ambiguous, B bad, M move to another image, C add a caption, T note;
// the image itself: Shift+A ambiguous, Shift+B bad, Shift+T note.
// NLVR2: F flip the label and A ambiguous (each moves on to the next example), E edit the sentence, T note.
// Ctrl+Z / Ctrl+Shift+Z undo and redo.
import { useCallback, useEffect, useState } from 'react';
import type { ImageDetail, Nlvr2Example } from '../../../../electron/api/schemas';
import { useLabels } from './store';
import { useLabelState } from './useLabelState';
import { EditableText } from '../../components/EditableText';
import { isTyping } from '../../keys';

/**
 * Single-key actions while an item panel is open: `actions` maps a key to what it does ("a" for A, "A" for
 * Shift+A). Ignored while typing, while an inline editor is open, or with Ctrl/Alt/Cmd (those belong to the app).
 */
function usePanelKeys(actions: Record<string, (() => void) | undefined>, paused: boolean) {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (paused || e.ctrlKey || e.metaKey || e.altKey) return;
      if (isTyping(e)) return;
      const action = e.shiftKey ? actions[e.key.toUpperCase()] : actions[e.key.toLowerCase()];
      if (!action) return;
      action();
      e.preventDefault();
      e.stopPropagation();
    };
    window.addEventListener('keydown', onKey, true);
    return () => window.removeEventListener('keydown', onKey, true);
  });
}

const Key = ({ k }: { k: string }) => <kbd>{k}</kbd>;

export function CaptionLabels({ item }: { item: ImageDetail }) {
  const edit = useLabels((s) => s.edit);
  const [sel, setSel] = useState(0);
  const [mode, setMode] = useState<null | 'edit' | 'move' | 'add' | 'note' | 'image-note'>(null);
  const captions = item.captions;
  const state = useLabelState([
    ...captions.map((c) => ({ datasetId: item.datasetId, kind: 'caption' as const, key: String(c.sentid) })),
    { datasetId: item.datasetId, kind: 'image', key: item.sourceId },
  ]);
  const cur = (sentid: number, field: string, fallback: unknown) => {
    const k = `caption|${sentid}|${field}`;
    return k in state ? state[k] : fallback;
  };
  const selected = captions[sel];
  const act = useCallback(
    (field: string, value: unknown, expected?: unknown) =>
      selected &&
      edit(
        [{ datasetId: item.datasetId, kind: 'caption', key: String(selected.sentid), field, value, expected }],
        'browse',
      ),
    [edit, item.datasetId, selected],
  );

  const imageKey = `image|${item.sourceId}|`;
  const imageFlag = (imageKey + 'flag' in state ? state[imageKey + 'flag'] : null) as string | null;
  const actImage = (field: string, value: unknown, expected?: unknown) =>
    edit([{ datasetId: item.datasetId, kind: 'image', key: item.sourceId, field, value, expected }], 'browse');
  const toggleImageFlag = (flag: 'ambiguous' | 'bad') =>
    void actImage('flag', imageFlag === flag ? null : flag, imageFlag);
  const toggleFlag = (flag: 'ambiguous' | 'bad') => {
    if (!selected) return;
    const now = cur(selected.sentid, 'flag', null);
    void act('flag', now === flag ? null : flag, now);
  };
  usePanelKeys(
    {
      j: () => setSel((s) => Math.min(s + 1, captions.length - 1)),
      k: () => setSel((s) => Math.max(s - 1, 0)),
      e: () => setMode('edit'),
      m: () => setMode('move'),
      c: () => setMode('add'),
      t: () => setMode('note'),
      a: () => toggleFlag('ambiguous'),
      b: () => toggleFlag('bad'),
      A: () => toggleImageFlag('ambiguous'),
      B: () => toggleImageFlag('bad'),
      T: () => setMode('image-note'),
    },
    mode !== null,
  );

  return (
    <div className="labeling">
      <p data-testid="image-labels">
        Image {item.sourceId}
        {imageFlag && <span className={`tag tag-${imageFlag}`}>{imageFlag}</span>}
        {typeof state[imageKey + 'note'] === 'string' && (
          <span className="muted"> · note: {String(state[imageKey + 'note'])}</span>
        )}
      </p>
      {mode === 'image-note' && (
        <EditableText
          label="Image note"
          value={(state[imageKey + 'note'] as string | undefined) ?? ''}
          onCancel={() => setMode(null)}
          onSave={(v) => void actImage('note', v, state[imageKey + 'note'] ?? null).then(() => setMode(null))}
        />
      )}
      <ol className="captions">
        {captions.map((c, i) => {
          const raw = cur(c.sentid, 'raw', c.raw) as string;
          const flag = cur(c.sentid, 'flag', null) as string | null;
          const moved = cur(c.sentid, 'image', item.sourceId) as string;
          const removed = cur(c.sentid, 'removed', false) === true;
          return (
            <li
              key={c.id}
              className={`${i === sel ? 'selected' : ''}${removed ? ' removed' : ''}`}
              onClick={() => setSel(i)}
              data-sentid={c.sentid}
            >
              {mode === 'edit' && i === sel ? (
                <EditableText
                  label="Edit caption"
                  value={raw}
                  onCancel={() => setMode(null)}
                  onSave={(v) => void act('raw', v, raw).then(() => setMode(null))}
                />
              ) : (
                <span className={raw !== c.raw ? 'edited' : ''}>{raw}</span>
              )}{' '}
              <span className="muted">#{c.sentid}</span>
              {flag && <span className={`tag tag-${flag}`}>{flag}</span>}
              {moved !== item.sourceId && <span className="tag">moved to image {moved}</span>}
              {mode === 'move' && i === sel && (
                <EditableText
                  label="Move caption to imgid"
                  value=""
                  onCancel={() => setMode(null)}
                  onSave={(v) => void act('image', v, moved).then(() => setMode(null))}
                />
              )}
              {mode === 'note' && i === sel && (
                <EditableText
                  label="Note"
                  value={(cur(c.sentid, 'note', '') as string) ?? ''}
                  onCancel={() => setMode(null)}
                  onSave={(v) => void act('note', v, cur(c.sentid, 'note', null)).then(() => setMode(null))}
                />
              )}
            </li>
          );
        })}
      </ol>
      {mode === 'add' && (
        <EditableText
          label="New caption"
          value=""
          onCancel={() => setMode(null)}
          onSave={(v) => {
            const key = `new:${Date.now().toString(36)}`;
            void edit(
              [
                { datasetId: item.datasetId, kind: 'caption', key, field: 'raw', value: v },
                { datasetId: item.datasetId, kind: 'caption', key, field: 'image', value: item.sourceId },
              ],
              'browse',
            ).then(() => setMode(null));
          }}
        />
      )}
      <div className="row actions-row">
        <button type="button" onClick={() => setMode('edit')}>
          Edit <Key k="E" />
        </button>
        <button type="button" onClick={() => toggleFlag('ambiguous')}>
          Ambiguous <Key k="A" />
        </button>
        <button type="button" onClick={() => toggleFlag('bad')}>
          Bad <Key k="B" />
        </button>
        <button type="button" onClick={() => setMode('move')}>
          Move <Key k="M" />
        </button>
        <button type="button" onClick={() => setMode('add')}>
          Add caption <Key k="C" />
        </button>
        <button type="button" onClick={() => setMode('note')}>
          Note <Key k="T" />
        </button>
        <span className="muted">
          <Key k="J" />/<Key k="K" /> select caption
        </span>
      </div>
      <div className="row actions-row">
        <span className="muted">Image:</span>
        <button type="button" onClick={() => toggleImageFlag('ambiguous')}>
          Ambiguous <Key k="⇧A" />
        </button>
        <button type="button" onClick={() => toggleImageFlag('bad')}>
          Bad <Key k="⇧B" />
        </button>
        <button type="button" onClick={() => setMode('image-note')}>
          Note <Key k="⇧T" />
        </button>
      </div>
    </div>
  );
}

/** `onLabeled` moves on to the next example after a one-key judgement (flip, ambiguous). */
export function Nlvr2Labels({ item, onLabeled }: { item: Nlvr2Example; onLabeled?: () => void }) {
  const edit = useLabels((s) => s.edit);
  const [mode, setMode] = useState<null | 'edit' | 'note'>(null);
  const state = useLabelState([{ datasetId: item.datasetId, kind: 'nlvr2', key: item.identifier }]);
  const cur = (field: string, fallback: unknown) => {
    const k = `nlvr2|${item.identifier}|${field}`;
    return k in state ? state[k] : fallback;
  };
  const label = cur('label', item.label) as boolean | null;
  const sentence = cur('sentence', item.sentence) as string;
  const flag = cur('flag', null) as string | null;
  const act = useCallback(
    (field: string, value: unknown, expected?: unknown) =>
      edit([{ datasetId: item.datasetId, kind: 'nlvr2', key: item.identifier, field, value, expected }], 'browse'),
    [edit, item],
  );
  const judged = (ok: boolean) => ok && onLabeled?.();
  usePanelKeys(
    {
      f: label !== null ? () => void act('label', !label, label).then(judged) : undefined,
      e: () => setMode('edit'),
      a: () => void act('flag', flag === 'ambiguous' ? null : 'ambiguous', flag).then(judged),
      t: () => setMode('note'),
    },
    mode !== null,
  );
  return (
    <div className="labeling">
      {mode === 'edit' ? (
        <EditableText
          label="Edit sentence"
          value={sentence}
          onCancel={() => setMode(null)}
          onSave={(v) => void act('sentence', v, sentence).then(() => setMode(null))}
        />
      ) : (
        <p className={`sentence${sentence !== item.sentence ? ' edited' : ''}`}>{sentence}</p>
      )}
      <p data-testid="nlvr2-label">
        Label: <strong>{label === null ? '—' : label ? 'True' : 'False'}</strong>
        {label !== item.label && <span className="tag">corrected (was {item.label ? 'True' : 'False'})</span>}
        {flag && <span className={`tag tag-${flag}`}>{flag}</span>}
      </p>
      {mode === 'note' && (
        <EditableText
          label="Note"
          value={(cur('note', '') as string) ?? ''}
          onCancel={() => setMode(null)}
          onSave={(v) => void act('note', v, cur('note', null)).then(() => setMode(null))}
        />
      )}
      <div className="row actions-row">
        <button
          type="button"
          disabled={label === null}
          onClick={() => label !== null && void act('label', !label, label)}
        >
          Flip label <Key k="F" />
        </button>
        <button type="button" onClick={() => setMode('edit')}>
          Edit sentence <Key k="E" />
        </button>
        <button type="button" onClick={() => void act('flag', flag === 'ambiguous' ? null : 'ambiguous', flag)}>
          Ambiguous <Key k="A" />
        </button>
        <button type="button" onClick={() => setMode('note')}>
          Note <Key k="T" />
        </button>
      </div>
    </div>
  );
}
