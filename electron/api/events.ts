// A tiny typed event hub: the backend emits, transports (IPC, SSE) subscribe.
import type { EventName, EventPayload } from './contract';

type Handler<E extends EventName> = (payload: EventPayload<E>) => void;

export class EventHub {
  private readonly handlers = new Map<EventName, Set<Handler<EventName>>>();

  on<E extends EventName>(event: E, handler: Handler<E>): () => void {
    const set = this.handlers.get(event) ?? new Set();
    set.add(handler as Handler<EventName>);
    this.handlers.set(event, set);
    return () => set.delete(handler as Handler<EventName>);
  }

  /** Subscribes to every event; used by transports that forward everything. */
  onAny(handler: (event: EventName, payload: unknown) => void, names: readonly EventName[]): () => void {
    const offs = names.map((name) => this.on(name, (p) => handler(name, p)));
    return () => offs.forEach((off) => off());
  }

  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    for (const h of this.handlers.get(event) ?? []) {
      try {
        h(payload);
      } catch (e) {
        console.error(`event handler for ${event} failed:`, e);
      }
    }
  }
}
