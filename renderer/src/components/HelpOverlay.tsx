import { VIEWS, useNav } from '../stores/nav';

export function HelpOverlay() {
  const open = useNav((s) => s.helpOpen);
  const toggle = useNav((s) => s.toggleHelp);
  if (!open) return null;
  return (
    <div className="overlay" role="dialog" aria-label="Keyboard shortcuts" onClick={() => toggle(false)}>
      <div className="dialog" onClick={(e) => e.stopPropagation()}>
        <h2>Keyboard shortcuts</h2>
        <table className="table">
          <tbody>
            {VIEWS.map((v) => (
              <tr key={v.id}>
                <td>
                  <kbd>Alt</kbd>+<kbd>{v.key}</kbd>
                </td>
                <td>{v.label}</td>
              </tr>
            ))}
            <tr>
              <td>
                <kbd>/</kbd>
              </td>
              <td>Focus search (Browse)</td>
            </tr>
            <tr>
              <td>
                <kbd>←</kbd> <kbd>→</kbd> <kbd>↑</kbd> <kbd>↓</kbd>
              </td>
              <td>Move in the grid (Browse)</td>
            </tr>
            <tr>
              <td>
                <kbd>Enter</kbd> / <kbd>Esc</kbd>
              </td>
              <td>Open / close the item panel</td>
            </tr>
            {[
              ['J / K', 'Select the next / previous caption (item panel)'],
              ['E', 'Edit the caption or NLVR2 sentence'],
              ['A / B', 'Flag ambiguous / bad'],
              ['M', 'Move the caption to another image'],
              ['C', 'Add a caption'],
              ['F', 'Flip the NLVR2 label'],
              ['T', 'Add a note'],
              ['Ctrl+Z / Ctrl+Shift+Z', 'Undo / redo (also after a restart)'],
              ['?', 'This help'],
            ].map(([k, what]) => (
              <tr key={k}>
                <td>
                  <kbd>{k}</kbd>
                </td>
                <td>{what}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <button type="button" onClick={() => toggle(false)}>
          Close
        </button>
      </div>
    </div>
  );
}
