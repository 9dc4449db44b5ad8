// Browser mode: the same MomeApi over HTTP (POST /api/<method>) and Server-Sent Events (GET /api/events),
// the built renderer, and media under registered roots. Binds 127.0.0.1 only.
//
// The credential stays with its own server. Cookies are per host, not per port: a `mome_token` cookie was
// sent to every service on 127.0.0.1, and a second instance overwrote the first one's. So there is no cookie:
// - the page takes the token from its address once (/?token=…), keeps it in sessionStorage (per origin, i.e.
//   per port, and per tab), removes it from the address bar, and sends `Authorization: Bearer` on every call;
// - the event stream is read with fetch (EventSource cannot send a header), with the same header;
// - <img src> cannot send a header either, so /media also takes a media ticket in its query string: a random
//   value, distinct from the token, that the event stream hands its page (an `event: session` frame). It
//   opens GET /media and nothing else, lives while that page's stream is open and for a minute after
//   (so a reconnecting page keeps its image URLs), and dies with the server. Referrer-Policy no-referrer
//   keeps it out of other requests. (fetch + blob URLs per image would cost every view a hook and the browser
//   cache; a cookie name per port would still be sent to every port.)
// Every /api/ and /media request needs the token (or, for /media, a live ticket). The static files (the built
// renderer: index.html, JS, CSS, fonts) hold no secret and are served without it, since a page reloaded after
// the token left its address must load before it can read the token from sessionStorage.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { ApiError, eventNames } from '../api/contract';
import { httpStatus, toErrorBody } from '../api/dispatch';
import type { Backend } from '../backend/index';
import { isInside } from '../media/roots';
import { parseThumb } from '../media/serve';
import { SECURITY_HEADERS, STATIC_TYPES, checkHost, isWellFormedTarget } from './security';

export interface BridgeOptions {
  backend: Backend;
  staticDir: string;
  token?: string;
  port?: number;
}

export interface Bridge {
  url: string;
  baseUrl: string;
  token: string;
  port: number;
  close(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;
/** How long a media ticket outlives the event stream it was handed on. */
const TICKET_GRACE_MS = 60_000;
/** The request header in which a reconnecting page names the ticket it has, to keep its image URLs. */
const TICKET_HEADER = 'x-mome-media-ticket';

function sameToken(a: string | undefined, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

/** Media tickets: open streams holding each, and when it expires once none is open. */
class MediaTickets {
  private readonly tickets = new Map<string, { open: number; expires: number }>();

  /** The ticket for a new event stream: the page's own if it is still live, else a fresh one. */
  attach(previous: string | undefined): string {
    this.prune();
    const known = previous ? this.lookup(previous) : undefined;
    const ticket = known ?? crypto.randomBytes(24).toString('hex');
    const t = this.tickets.get(ticket) ?? { open: 0, expires: Infinity };
    t.open++;
    t.expires = Infinity;
    this.tickets.set(ticket, t);
    return ticket;
  }

  detach(ticket: string): void {
    const t = this.tickets.get(ticket);
    if (t && --t.open === 0) t.expires = Date.now() + TICKET_GRACE_MS;
  }

  valid(ticket: string | undefined): boolean {
    return ticket !== undefined && this.lookup(ticket) !== undefined;
  }

  /** The stored ticket equal to `candidate` (compared in constant time) while it is live. */
  private lookup(candidate: string): string | undefined {
    for (const [ticket, t] of this.tickets) if (t.expires > Date.now() && sameToken(candidate, ticket)) return ticket;
    return undefined;
  }

  private prune() {
    for (const [ticket, t] of this.tickets) if (t.expires <= Date.now()) this.tickets.delete(ticket);
  }
}

function send(
  res: http.ServerResponse,
  status: number,
  type: string,
  body: string | Buffer,
  extra: Record<string, string> = {},
) {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Cache-Control': 'no-store', ...extra });
  res.end(body);
}

function sendError(res: http.ServerResponse, e: unknown) {
  const body = toErrorBody(e);
  send(res, httpStatus(body.code), 'application/json', JSON.stringify({ error: body }));
}

async function readBody(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new ApiError('invalid_arguments', 'The request body is larger than 1 MB.');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ApiError('invalid_arguments', `The request body is not valid JSON: ${(e as Error).message}`);
  }
}

export async function startBridge(options: BridgeOptions): Promise<Bridge> {
  const { backend } = options;
  const token = options.token ?? crypto.randomBytes(24).toString('hex');
  const staticDir = path.resolve(options.staticDir);
  const clients = new Set<http.ServerResponse>();
  const offEvents = backend.events.onAny((event, payload) => {
    const frame = `event: ${event}\ndata: ${JSON.stringify(payload)}\n\n`;
    for (const res of clients) res.write(frame);
  }, eventNames);

  const tickets = new MediaTickets();

  const serveStatic = (res: http.ServerResponse, pathname: string) => {
    const rel = pathname === '/' ? 'index.html' : decodeURIComponent(pathname).replace(/^\/+/, '');
    const file = path.resolve(staticDir, rel);
    if (!isInside(staticDir, file)) return send(res, 403, 'text/plain', 'Forbidden');
    fs.readFile(file, (err, body) => {
      if (err) {
        // client-side routes fall back to the app
        if (!path.extname(rel)) return serveStatic(res, '/');
        return send(res, 404, 'text/plain', 'Not found');
      }
      const type = STATIC_TYPES[path.extname(file)] ?? 'application/octet-stream';
      send(res, 200, type, body, { 'Cache-Control': rel === 'index.html' ? 'no-store' : 'max-age=3600' });
    });
  };

  const server = http.createServer(async (req, res) => {
    try {
      const host = checkHost(req.headers.host);
      if (host === 'malformed') return send(res, 400, 'text/plain', 'Bad request: malformed Host header.');
      if (host === 'foreign') return send(res, 403, 'text/plain', 'Only loopback host names are served.');
      // a malformed percent escape anywhere in the target is the client's error, not a 500 with a stack trace
      if (!isWellFormedTarget(req.url ?? '/')) {
        return send(res, 400, 'text/plain', 'Bad request: malformed percent escape in the URL.');
      }
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const bearer = req.headers.authorization?.startsWith('Bearer ') ? req.headers.authorization.slice(7) : undefined;
      const authorized = sameToken(bearer, token);

      const isApi = url.pathname === '/api' || url.pathname.startsWith('/api/');
      if ((req.method === 'GET' || req.method === 'HEAD') && !isApi && url.pathname !== '/media') {
        // the built renderer holds no secret (see the top of this file); the ?token= is for the page to read
        return serveStatic(res, url.pathname);
      }
      if (req.method === 'GET' && url.pathname === '/media') {
        if (!authorized && !tickets.valid(url.searchParams.get('ticket') ?? undefined)) {
          throw new ApiError('unauthorized', 'Missing or wrong access token or media ticket.');
        }
        const requested = url.searchParams.get('path');
        if (!requested) throw new ApiError('invalid_arguments', 'media: the path parameter is missing.');
        const thumb = parseThumb(url.searchParams.get('thumb'));
        const media = await backend.media(requested, thumb);
        return send(res, 200, media.contentType, media.body, { 'Cache-Control': 'private, max-age=300' });
      }
      if (!authorized) throw new ApiError('unauthorized', 'Missing or wrong access token.');

      if (req.method === 'GET' && url.pathname === '/api/events') {
        const previous = req.headers[TICKET_HEADER];
        const ticket = tickets.attach(typeof previous === 'string' ? previous : undefined);
        res.writeHead(200, {
          ...SECURITY_HEADERS,
          'Content-Type': 'text/event-stream',
          'Cache-Control': 'no-store',
          Connection: 'keep-alive',
        });
        res.write(`: connected\n\nevent: session\ndata: ${JSON.stringify({ mediaTicket: ticket })}\n\n`);
        clients.add(res);
        const beat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
        req.on('close', () => {
          clearInterval(beat);
          clients.delete(res);
          tickets.detach(ticket);
        });
        return;
      }
      if (req.method === 'POST' && url.pathname.startsWith('/api/')) {
        if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
          throw new ApiError('invalid_arguments', 'API calls must send Content-Type: application/json.');
        }
        const result = await backend.call(url.pathname.slice('/api/'.length), await readBody(req));
        return send(res, 200, 'application/json', JSON.stringify(result === undefined ? null : result));
      }
      throw new ApiError('not_found', `No route for ${req.method} ${url.pathname}.`);
    } catch (e) {
      if (!(e instanceof ApiError)) console.error(e);
      if (res.headersSent) return void res.end();
      sendError(res, e);
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    url: `${baseUrl}/?token=${token}`,
    baseUrl,
    token,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        offEvents();
        for (const res of clients) res.end();
        clients.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
