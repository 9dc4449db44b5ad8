// Browser mode: window.mome over HTTP (POST /api/<method>) and Server-Sent Events (GET /api/events).
// The access token arrives once in the address (?token=…). The page keeps it in sessionStorage, which is per
// origin (so per port: two instances on 127.0.0.1 do not see each other's) and per tab, removes it from the
// address bar, and sends it as `Authorization: Bearer` on every request. No cookie: a cookie would go to every
// service on 127.0.0.1, whatever its port. The event stream is read with fetch, since EventSource cannot send
// a header; its first frame hands the page a media ticket for <img src> URLs (see electron/bridge/server.ts).
import { buildMomeClient } from '../../../electron/api/client';
import { EVENT_NAMES } from '../../../electron/api/names';
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

const TOKEN_KEY = 'mome_token';
const NO_TOKEN =
  'Not signed in to this MoME Studio server: open the address printed by `npm run serve` (it carries the access token).';

let mediaTicket: string | null = null;

/** The ticket that lets <img src="media?…"> through in browser mode; null in Electron or before it came. */
export function currentMediaTicket(): string | null {
  return mediaTicket;
}

/** The token from the address (then removed from it) or, after a reload, from this tab's sessionStorage. */
function takeToken(): string | null {
  const params = new URLSearchParams(location.search);
  const fromUrl = params.get('token');
  if (params.has('token')) {
    params.delete('token');
    const rest = params.toString();
    history.replaceState(history.state, '', `${location.pathname}${rest ? `?${rest}` : ''}${location.hash}`);
  }
  try {
    if (fromUrl) sessionStorage.setItem(TOKEN_KEY, fromUrl);
    return sessionStorage.getItem(TOKEN_KEY) ?? fromUrl;
  } catch {
    return fromUrl; // storage disabled: the token lasts as long as the page
  }
}

/** One SSE frame ("event: x\ndata: …"); null for comments and keep-alives. */
function parseFrame(frame: string): { event: string; data: string } | null {
  let event = 'message';
  const data: string[] = [];
  for (const line of frame.split('\n')) {
    if (line.startsWith(':')) continue;
    const at = line.indexOf(':');
    const field = at < 0 ? line : line.slice(0, at);
    const value = at < 0 ? '' : line.slice(at + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  return data.length ? { event, data: data.join('\n') } : null;
}

export function installBridgeClient(): void {
  if ((window as unknown as { mome?: MomeApi }).mome) return; // Electron's preload already did
  const token = takeToken();
  const auth = (extra: Record<string, string> = {}): Record<string, string> =>
    token ? { ...extra, Authorization: `Bearer ${token}` } : extra;

  // Calls wait for the first media ticket (or the stream's first failure, or 3 s), so that every image path a
  // call returns is rendered with a ticket.
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
    setTimeout(resolve, 3000);
  });

  const stream = async () => {
    const res = await fetch('api/events', {
      headers: auth(mediaTicket ? { 'X-Mome-Media-Ticket': mediaTicket } : {}),
      cache: 'no-store',
    });
    if (!res.ok || !res.body) throw new Error(`events: HTTP ${res.status}`);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const frame = parseFrame(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (!frame) continue;
        if (frame.event === 'session') {
          mediaTicket = (JSON.parse(frame.data) as { mediaTicket: string }).mediaTicket;
          markReady();
        } else if ((EVENT_NAMES as readonly string[]).includes(frame.event)) {
          client.emit(frame.event, JSON.parse(frame.data));
        }
      }
    }
  };
  const connect = () => {
    stream()
      .catch(() => undefined)
      .finally(() => {
        markReady();
        setTimeout(connect, 2000); // the server restarted or the tunnel dropped: reconnect
      });
  };
  const client = buildMomeClient(async (name, args) => {
    await ready;
    const res = await fetch(`api/${name}`, {
      method: 'POST',
      credentials: 'omit',
      cache: 'no-store',
      headers: auth({ 'Content-Type': 'application/json' }),
      body: JSON.stringify(args),
    });
    const body = await res.json().catch(() => null);
    if (!res.ok) {
      const err = body?.error ?? { code: 'internal', message: `HTTP ${res.status}` };
      throw new MomeCallError(err.code, err.code === 'unauthorized' ? NO_TOKEN : err.message, err.details);
    }
    return body;
  });
  connect();
  (window as unknown as { mome: MomeApi }).mome = client.api;
}
