// Keyboard shortcuts are single keys, so they must stay out of the way of typing and of the browser's own
// modified keys.

/** True when a key press belongs to a text field or carries Ctrl/Cmd/Alt: no single-key shortcut applies. */
export function notAShortcut(e: KeyboardEvent): boolean {
  return e.ctrlKey || e.metaKey || e.altKey || isTyping(e);
}

/** True when the key press goes to a text field, a select or a text area. */
export function isTyping(e: KeyboardEvent): boolean {
  return ['INPUT', 'SELECT', 'TEXTAREA'].includes((e.target as HTMLElement).tagName);
}
