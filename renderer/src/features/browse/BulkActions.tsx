// The same labeling actions for many items at once: select in the Browse grid (X, Ctrl+click, Shift+click),
// then one key applies to every selected item in one all-or-nothing call. What the grid shows is compared with
// the current values first, and each edit carries the value it is based on, so a selection someone else
// changed meanwhile is refused as a whole (and shown anew), never overwritten.
import { useEffect, useState } from 'react';
import type { ImageItem, Nlvr2Example } from '../../../../electron/api/schemas';
import { mome } from '../../api/mome';
import { itemAt, useBrowse } from './store';
import { useLabels } from '../labels/store';
import { toastError, useToasts } from '../../stores/toasts';
import { EditableText } from '../../components/EditableText';
import { isTyping } from '../../keys';

type Item = ImageItem | Nlvr2Example;
type Target = { datasetId: number; kind: 'image' | 'nlvr2'; key: string };

const targetOf = (item: Item): Target =>
  'identifier' in item
    ? { datasetId: item.datasetId, kind: 'nlvr2', key: item.identifier }
    : { datasetId: item.datasetId, kind: 'image', key: item.sourceId };

/** Current values of `field` for each target (what this client would base its edit on). */
async function currentValues(targets: Target[], field: string, fallback: (t: Target) => unknown) {
  const rows = await mome().getLabelState({ targets });
  const seen = new Map(rows.filter((r) => r.field === field).map((r) => [`${r.target.kind}|${r.target.key}`, r.value]));
  return targets.map((t) => {
    const k = `${t.kind}|${t.key}`;
    return seen.has(k) ? seen.get(k) : fallback(t);
  });
}

/**
 * `shown`: the label values the grid shows ("kind|key|field"), `visible`: the items on screen ("kind|key"); an
 * item on screen without a shown value shows its value as imported.
 */
export function BulkActions({ shown, visible }: { shown: Record<string, unknown>; visible: Set<string> }) {
  const b = useBrowse();
  const edit = useLabels((s) => s.edit);
  const [noting, setNoting] = useState(false);
  const items = Object.keys(b.selected)
    .map((i) => itemAt(b, Number(i)))
    .filter((x): x is Item => Boolean(x));
  const isNlvr2 = items.length > 0 && 'identifier' in items[0];
  const targets = items.map(targetOf);

  const run = async (field: string, values: (current: unknown[]) => { value: unknown; expected?: unknown }[]) => {
    try {
      const labelOf = new Map(items.map((it) => [targetOf(it).key, 'identifier' in it ? it.label : null]));
      const original = (t: Target) => (field === 'label' ? labelOf.get(t.key) : null);
      const current = await currentValues(targets, field, original);
      const stale = targets.filter((t, i) => {
        const k = `${t.kind}|${t.key}`;
        if (!visible.has(k)) return false;
        const seen = `${k}|${field}` in shown ? shown[`${k}|${field}`] : original(t);
        return JSON.stringify(seen ?? null) !== JSON.stringify(current[i] ?? null);
      });
      if (stale.length > 0) {
        useLabels.getState().changed(); // show what they are now
        useToasts
          .getState()
          .push(`${stale.map((t) => t.key).join(', ')} changed meanwhile (another window?): check them and try again`);
        return;
      }
      const edits = values(current)
        .map((v, i) => ({ ...targets[i], field, ...v }))
        .filter((e) => e.value !== undefined);
      if (edits.length === 0) return;
      if (await edit(edits, 'browse-bulk'))
        useToasts.getState().push(`${field} set on ${edits.length} item${edits.length === 1 ? '' : 's'}`, 'info');
    } catch (e) {
      toastError(e);
    }
  };
  const flag = (which: 'ambiguous' | 'bad') =>
    run('flag', (cur) => {
      const all = cur.every((c) => c === which); // toggling: all flagged already → clear them
      return cur.map((c) => ({ value: all ? null : which, expected: c }));
    });
  const flip = () =>
    run('label', (cur) => cur.map((c) => (typeof c === 'boolean' ? { value: !c, expected: c } : { value: undefined })));

  useEffect(() => {
    if (items.length === 0 || noting) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (isTyping(e)) return;
      const k = e.key.toLowerCase();
      const action =
        k === 'a'
          ? () => flag('ambiguous')
          : k === 'b' && !isNlvr2
            ? () => flag('bad')
            : k === 'f' && isNlvr2
              ? flip
              : k === 't'
                ? () => setNoting(true)
                : null;
      if (!action) return;
      e.preventDefault();
      e.stopPropagation();
      void action();
    };
    window.addEventListener('keydown', onKey, true);
    return () => window.removeEventListener('keydown', onKey, true);
  });

  if (items.length === 0) return null;
  return (
    <div className="row bulk" data-testid="bulk-actions">
      <strong>{items.length} selected</strong>
      {isNlvr2 && (
        <button type="button" onClick={() => void flip()}>
          Flip labels <kbd>F</kbd>
        </button>
      )}
      <button type="button" onClick={() => void flag('ambiguous')}>
        Ambiguous <kbd>A</kbd>
      </button>
      {!isNlvr2 && (
        <button type="button" onClick={() => void flag('bad')}>
          Bad <kbd>B</kbd>
        </button>
      )}
      <button type="button" onClick={() => setNoting(true)}>
        Note <kbd>T</kbd>
      </button>
      {noting && (
        <EditableText
          label="Note for the selected items"
          value=""
          onCancel={() => setNoting(false)}
          onSave={(v) => void run('note', (cur) => cur.map(() => ({ value: v }))).then(() => setNoting(false))}
        />
      )}
      <button type="button" onClick={b.clearSelection}>
        Clear selection <kbd>Esc</kbd>
      </button>
    </div>
  );
}
