// Browser mode: window.mome over HTTP (POST /api/<method>) and Server-Sent Events (GET /api/events).
// The access token arrives once in the address (?token=…); the server answers that load with an HttpOnly
// cookie, so later requests are authenticated without the page ever holding the token.
import { EVENT_NAMES, METHOD_NAMES } from '../../../electron/api/names';
import type { MomeApi } from '../../../electron/api/contract';

export class MomeCallError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'MomeCallError';
  }
}

type Listener = (payload: unknown) => void;

export function installBridgeClient(): void {
  if ((window as unknown as { mome?: MomeApi }).mome) return; // Electron's preload already did
  if (new URLSearchParams(location.search).has('token')) history.replaceState(null, '', location.pathname);

  const listeners = new Map<string, Set<Listener>>();
  let source: EventSource | null = null;
  const connect = () => {
    source = new EventSource('api/events', { withCredentials: true });
    for (const name of EVENT_NAMES) {
      source.addEventListener(name, (ev) => {
        const payload = JSON.parse((ev as MessageEvent).data);
        for (const l of listeners.get(name) ?? []) l(payload);
      });
    }
    source.onerror = () => {
      source?.close();
      setTimeout(connect, 2000); // the server restarted or the tunnel dropped: reconnect
    };
  };
  connect();

  const api: Record<string, unknown> = {
    on(event: string, handler: Listener) {
      const set = listeners.get(event) ?? new Set<Listener>();
      set.add(handler);
      listeners.set(event, set);
      return () => set.delete(handler);
    },
  };
  for (const name of METHOD_NAMES) {
    api[name] = async (args: unknown) => {
      const res = await fetch(`api/${name}`, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(args ?? {}),
      });
      const body = await res.json().catch(() => null);
      if (!res.ok) {
        const err = body?.error ?? { code: 'internal', message: `HTTP ${res.status}` };
        throw new MomeCallError(err.code, err.message, err.details);
      }
      return body;
    };
  }
  (window as unknown as { mome: unknown }).mome = api;
}
