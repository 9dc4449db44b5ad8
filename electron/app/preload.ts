// Exposes window.mome (the MomeApi) to the sandboxed renderer. Only the two IPC channels cross; the main
// process validates every call against the contract.
import { contextBridge, ipcRenderer } from 'electron';
import { EVENT_NAMES, IPC_CALL, IPC_EVENT, METHOD_NAMES } from '../api/names';

type Reply = { ok: true; result: unknown } | { ok: false; error: { code: string; message: string; details?: unknown } };
type Listener = (payload: unknown) => void;

const listeners = new Map<string, Set<Listener>>();
ipcRenderer.on(IPC_EVENT, (_event, name: string, payload: unknown) => {
  for (const l of listeners.get(name) ?? []) l(payload);
});

const api: Record<string, unknown> = {
  on(event: string, handler: Listener) {
    if (!(EVENT_NAMES as readonly string[]).includes(event)) throw new Error(`Unknown event "${event}".`);
    const set = listeners.get(event) ?? new Set<Listener>();
    set.add(handler);
    listeners.set(event, set);
    return () => set.delete(handler);
  },
};
for (const name of METHOD_NAMES) {
  api[name] = async (args: unknown) => {
    const reply = (await ipcRenderer.invoke(IPC_CALL, name, args ?? {})) as Reply;
    if (reply.ok) return reply.result;
    throw Object.assign(new Error(reply.error.message), { code: reply.error.code, details: reply.error.details });
  };
}

contextBridge.exposeInMainWorld('mome', api);
