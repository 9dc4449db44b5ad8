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
                <kbd>?</kbd>
              </td>
              <td>This help</td>
            </tr>
          </tbody>
        </table>
        <button type="button" onClick={() => toggle(false)}>
          Close
        </button>
      </div>
    </div>
  );
}
