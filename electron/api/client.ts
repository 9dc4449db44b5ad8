// The typed `window.mome` over a transport: the Electron preload (IPC) and browser mode's client (HTTP and
// Server-Sent Events) both build it here, so they expose the same methods and events. Pure and free of
// runtime dependencies but names.ts: the sandboxed preload bundles it, and the renderer imports it.
import type { MomeApi } from './contract';
import { EVENT_NAMES, METHOD_NAMES } from './names';

type Listener = (payload: unknown) => void;

export interface MomeClient {
  api: MomeApi;
  /** Hands an event the transport received to the page's listeners. */
  emit(event: string, payload: unknown): void;
}

/** `call` carries one method call and resolves with its result, or rejects with the transport's error. */
export function buildMomeClient(call: (method: string, args: unknown) => Promise<unknown>): MomeClient {
  const listeners = new Map<string, Set<Listener>>();
  const api: Record<string, unknown> = {
    on(event: string, handler: Listener) {
      if (!(EVENT_NAMES as readonly string[]).includes(event)) throw new Error(`Unknown event "${event}".`);
      const set = listeners.get(event) ?? new Set<Listener>();
      set.add(handler);
      listeners.set(event, set);
      return () => set.delete(handler);
    },
  };
  for (const name of METHOD_NAMES) api[name] = (args: unknown) => call(name, args ?? {});
  return {
    api: api as MomeApi,
    emit(event, payload) {
      for (const l of listeners.get(event) ?? []) l(payload);
    },
  };
}
