// The "Python interpreter" section of the Models view: the interpreters found here with their torch and CUDA
// devices (or what they lack), the one fine-tunes and conversions use and why, and the user's choice.
import { useEffect, useState } from 'react';
import type { PythonInterpreter, PythonInUse } from '../../../../electron/api/schemas';
import { usePython } from './python-store';
import { PathField } from '../../components/PathField';

const WHY: Record<PythonInUse['source'], string> = {
  MOME_PYTHON: 'set by the MOME_PYTHON environment variable',
  chosen: 'your choice',
  automatic: 'found automatically (the first of python3, /usr/bin/python3, python that imports torch)',
};

function InUse({ inUse }: { inUse: PythonInUse }) {
  return (
    <>
      {inUse.source === 'MOME_PYTHON' && (
        <p className="warning" data-testid="python-env-override">
          MOME_PYTHON is set: it wins over{' '}
          {inUse.chosen ? (
            <>
              the interpreter chosen here (<code className="path">{inUse.chosen}</code>)
            </>
          ) : (
            'any choice made here'
          )}{' '}
          and over the automatic search. Unset it to use the choice made here.
        </p>
      )}
      <p data-testid="python-in-use">
        Fine-tunes and conversions run with{' '}
        {inUse.path ? <code className="path">{inUse.path}</code> : <strong>no interpreter</strong>}
        <span className="muted"> — {WHY[inUse.source]}</span>
      </p>
      {inUse.problem && <p className="error">{inUse.problem}</p>}
    </>
  );
}

/** The problem in a few words for the table (the full text, with what to do, is the cell's tooltip). */
function shortStatus(i: PythonInterpreter): string {
  if (i.ok) return 'ready';
  if (i.pythonVersion === null) return 'could not be probed';
  const parts = [
    ...(i.torchVersion === null ? ['cannot import torch'] : []),
    ...(i.missing.length ? [`lacks ${i.missing.join(', ')}`] : []),
  ];
  return parts.length ? parts.join('; ') : 'torch too old'; // the one problem left when both import
}

function InterpreterRow({ i }: { i: PythonInterpreter }) {
  const choose = usePython((s) => s.choose);
  const choosing = usePython((s) => s.choosing);
  return (
    <tr data-python={i.path} className={i.inUse ? 'selected' : ''}>
      <td>
        {i.inUse ? (
          <strong>in use</strong>
        ) : (
          <button
            type="button"
            disabled={!i.ok || choosing}
            title={i.problem ?? undefined}
            onClick={() => void choose(i.path)}
          >
            Use
          </button>
        )}
      </td>
      <td className="path" title={i.aliases.length ? `also ${i.aliases.join(', ')}` : undefined}>
        {i.path}
      </td>
      <td className="muted">{i.foundAs.join(', ')}</td>
      <td className="num">{i.pythonVersion ?? '—'}</td>
      <td data-testid="python-torch">{i.torchVersion ?? '—'}</td>
      <td>{i.cuda.available ? i.cuda.devices.join(', ') || 'available' : <span className="muted">none</span>}</td>
      <td className={i.ok ? 'state-succeeded' : 'error'} title={i.problem ?? undefined} data-testid="python-status">
        {shortStatus(i)}
      </td>
    </tr>
  );
}

export function PythonInterpreters() {
  const { interpreters, inUse, minimumTorch, searching, choosing, error, load, choose } = usePython();
  const [typed, setTyped] = useState('');
  const loaded = inUse !== null;
  useEffect(() => {
    if (!loaded) void load(); // once: probing takes seconds; "Search again" refreshes
  }, [loaded, load]);
  return (
    <section data-testid="python-interpreters">
      <h2 className="section">Python interpreter</h2>
      <p className="muted">
        Fine-tuning and checkpoint conversion run PyTorch in a Python interpreter that needs torch{' '}
        {minimumTorch ?? '1.13'} or newer, numpy, Pillow and onnx. The choice is remembered in this app&apos;s data
        folder.
      </p>
      {inUse && <InUse inUse={inUse} />}
      {searching && interpreters.length === 0 ? (
        <p className="muted">Looking for Python interpreters (each one is asked what it has; this takes seconds)…</p>
      ) : (
        <table className="table" data-testid="python-table">
          <thead>
            <tr>
              <th />
              <th>Interpreter</th>
              <th>Found as</th>
              <th className="num">Python</th>
              <th>torch</th>
              <th>CUDA devices</th>
              <th>Status</th>
            </tr>
          </thead>
          <tbody>
            {[...interpreters.filter((i) => i.ok), ...interpreters.filter((i) => !i.ok)].map((i) => (
              <InterpreterRow key={i.path} i={i} />
            ))}
          </tbody>
        </table>
      )}
      <div className="row" style={{ marginTop: 8 }}>
        <PathField
          value={typed}
          onChange={setTyped}
          label="Python interpreter path"
          placeholder="/path/to/env/bin/python"
          files
          pick={{ kind: 'file', title: 'Choose a Python interpreter (e.g. ~/miniconda3/envs/torch/bin/python)' }}
        />
        <button
          type="button"
          disabled={!/^(\/|[A-Za-z]:[\\/])/.test(typed) || choosing}
          onClick={() => void choose(typed.replace(/\/+$/, '')).then((ok) => ok && setTyped(''))}
        >
          Use this interpreter
        </button>
        <button type="button" disabled={!inUse?.chosen || choosing} onClick={() => void choose(null)}>
          Back to automatic
        </button>
        <button type="button" disabled={searching} onClick={() => void load()}>
          {searching ? 'Searching…' : 'Search again'}
        </button>
      </div>
      {choosing && <p className="muted">Checking the interpreter…</p>}
      {error && (
        <p className="error" role="alert" data-testid="python-error">
          {error}
        </p>
      )}
    </section>
  );
}
