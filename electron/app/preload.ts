// Exposes window.mome (the MomeApi) to the sandboxed renderer. Only the two IPC channels cross; the main
// process validates every call against the contract.
import { contextBridge, ipcRenderer } from 'electron';
import { buildMomeClient } from '../api/client';
import { IPC_CALL, IPC_EVENT } from '../api/names';

type Reply = { ok: true; result: unknown } | { ok: false; error: { code: string; message: string; details?: unknown } };

const client = buildMomeClient(async (name, args) => {
  const reply = (await ipcRenderer.invoke(IPC_CALL, name, args)) as Reply;
  if (reply.ok) return reply.result;
  throw Object.assign(new Error(reply.error.message), { code: reply.error.code, details: reply.error.details });
});
ipcRenderer.on(IPC_EVENT, (_event, name: string, payload: unknown) => client.emit(name, payload));

contextBridge.exposeInMainWorld('mome', client.api);
