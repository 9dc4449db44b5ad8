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
            <tr>
              <td>
                <kbd>Space</kbd>
              </td>
              <td>The item under the cursor at full size (Browse)</td>
            </tr>
            {[
              ['J / K', 'Select the next / previous caption (item panel); the next / previous result (Retrieval)'],
              ['E', 'Edit the caption or NLVR2 sentence'],
              ['A / B', 'Flag the caption ambiguous / bad'],
              ['Shift+A / Shift+B / Shift+T', 'Flag the image itself ambiguous / bad, or add a note to it'],
              ['M', 'Move the caption to another image (item panel); mark the result also a match (Retrieval)'],
              ['C', 'Add a caption'],
              ['F', 'Flip the NLVR2 label and move on to the next example'],
              ['T', 'Add a note'],
              ['H', 'Mark the selected result a hard negative (Retrieval)'],
              ['L, Shift+drag', 'Lasso on the whole map (drag pans, the wheel zooms); Esc clears the lasso'],
              ['N / P', 'Next / previous item (Browse, with the item panel following) or query (Retrieval, NLVR2)'],
              ['X, Ctrl+click, Shift+click', 'Select items in the grid for a bulk action (Browse)'],
              ['A / B / F / T with a selection', 'Apply to every selected item; Esc clears the selection'],
              ['K / F / H / M / A / S (Review)', 'Keep / fix / hard negative / also a match / ambiguous / skip'],
              ['B / U (Review)', 'Back to the previous item / undo the last decision'],
              ['Ctrl+Z / Ctrl+Shift+Z', 'Undo / redo a whole action, bulk ones included (also after a restart)'],
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
