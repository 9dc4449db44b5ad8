import { useState } from 'react';

/** Inline text editing (Electron has no window.prompt): Enter saves, Esc cancels. */
export function EditableText({
  value,
  onSave,
  onCancel,
  label,
}: {
  value: string;
  onSave(v: string): void;
  onCancel(): void;
  label: string;
}) {
  const [text, setText] = useState(value);
  return (
    <input
      className="inline-edit"
      aria-label={label}
      autoFocus
      value={text}
      onChange={(e) => setText(e.target.value)}
      onKeyDown={(e) => {
        e.stopPropagation();
        if (e.key === 'Enter' && text.trim()) onSave(text.trim());
        if (e.key === 'Escape') onCancel();
      }}
    />
  );
}
