// A folder path field with completion from the backend (browser mode has no native dialog):
// suggestions list the folder typed so far; Tab or Enter on a suggestion takes it, arrows move.
// In the desktop app, `pick` adds buttons that open the native dialog beside it.
import { useEffect, useState } from 'react';
import type { DirEntry } from '../../../electron/api/schemas';
import { mome } from '../api/mome';
import { useApp } from '../stores/app';

/** A native dialog button: a folder or a file (of these extensions), its dialog title and button text. */
export interface PathPicker {
  kind: 'folder' | 'file';
  title: string;
  extensions?: string[];
  /** The button's text; "Choose…" unless told. */
  button?: string;
  /** The value taken from the picked path (e.g. a file name added to a picked folder); the path itself unless told. */
  take?(picked: string): string;
}

export function PathField({
  value,
  onChange,
  label,
  files = false,
  placeholder = '/path/to/dataset',
  pick = [],
}: {
  value: string;
  onChange(v: string): void;
  label: string;
  files?: boolean;
  placeholder?: string;
  pick?: PathPicker | PathPicker[];
}) {
  const desktop = useApp((s) => s.info?.mode) === 'electron';
  const [entries, setEntries] = useState<DirEntry[]>([]);
  const [active, setActive] = useState(0);
  const [focused, setFocused] = useState(false);
  const dir = value.endsWith('/') ? value : value.slice(0, value.lastIndexOf('/') + 1) || '/';
  const stem = value.slice(dir.length).toLowerCase();

  useEffect(() => {
    let stale = false;
    if (!dir.startsWith('/')) return;
    mome()
      .listDirectory({ path: dir.length > 1 ? dir.replace(/\/$/, '') : '/', includeFiles: files })
      .then((e) => !stale && setEntries(e))
      .catch(() => !stale && setEntries([]));
    return () => {
      stale = true;
    };
  }, [dir, files]);

  const matches = entries.filter((e) => e.name.toLowerCase().startsWith(stem)).slice(0, 12);
  const take = (e: DirEntry) => onChange(e.isDirectory ? `${e.path}/` : e.path);
  return (
    <>
      <div className="pathfield">
        <input
          aria-label={label}
          value={value}
          spellCheck={false}
          placeholder={placeholder}
          onFocus={() => setFocused(true)}
          onBlur={() => setTimeout(() => setFocused(false), 150)}
          onChange={(e) => {
            onChange(e.target.value);
            setActive(0);
          }}
          onKeyDown={(e) => {
            if (!matches.length) return;
            if (e.key === 'ArrowDown') {
              e.preventDefault();
              setActive((a) => Math.min(a + 1, matches.length - 1));
            } else if (e.key === 'ArrowUp') {
              e.preventDefault();
              setActive((a) => Math.max(a - 1, 0));
            } else if (e.key === 'Tab' && stem) {
              e.preventDefault();
              take(matches[active] ?? matches[0]);
            }
          }}
        />
        {focused && stem !== '' && matches.length > 0 && (
          <ul className="suggestions" role="listbox">
            {matches.map((m, i) => (
              <li
                key={m.path}
                role="option"
                aria-selected={i === active}
                className={i === active ? 'active' : ''}
                onMouseDown={() => take(m)}
              >
                {m.name}
                {m.isDirectory ? '/' : ''}
              </li>
            ))}
          </ul>
        )}
      </div>
      {desktop && [pick].flat().map((p) => <PickButton key={p.title} picker={p} onPicked={onChange} />)}
    </>
  );
}

function PickButton({ picker, onPicked }: { picker: PathPicker; onPicked(v: string): void }) {
  const { kind, title, extensions, button = 'Choose…', take = (p: string) => p } = picker;
  const open = () =>
    kind === 'folder' ? mome().pickFolder({ title }) : mome().pickFile({ title, ...(extensions && { extensions }) });
  return (
    <button type="button" onClick={() => void open().then((p) => p && onPicked(take(p)))}>
      {button}
    </button>
  );
}
