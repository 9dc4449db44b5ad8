// Browser mode: the same MomeApi over HTTP (POST /api/<method>) and Server-Sent Events (GET /api/events),
// the built renderer, and media under registered roots. Binds 127.0.0.1 only; every request carries the
// random token (as a cookie set when the tokenized URL is first opened, or as a Bearer header).
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { ApiError, eventNames } from '../api/contract';
import { httpStatus, toErrorBody } from '../api/dispatch';
import type { Backend } from '../backend/index';
import { isInside } from '../media/roots';
import { SECURITY_HEADERS, STATIC_TYPES, isLoopbackHost } from './security';

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

const COOKIE = 'mome_token';
const MAX_BODY = 1024 * 1024;

function sameToken(a: string | undefined, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

function cookieToken(req: http.IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === COOKIE) return v.join('=');
  }
  return undefined;
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

  const serveStatic = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    pathname: string,
    extra: Record<string, string> = {},
  ) => {
    const rel = pathname === '/' ? 'index.html' : decodeURIComponent(pathname).replace(/^\/+/, '');
    const file = path.resolve(staticDir, rel);
    if (!isInside(staticDir, file)) return send(res, 403, 'text/plain', 'Forbidden');
    fs.readFile(file, (err, body) => {
      if (err) {
        // client-side routes fall back to the app
        if (!path.extname(rel)) return serveStatic(req, res, '/', extra);
        return send(res, 404, 'text/plain', 'Not found');
      }
      const type = STATIC_TYPES[path.extname(file)] ?? 'application/octet-stream';
      send(res, 200, type, body, { ...extra, 'Cache-Control': rel === 'index.html' ? 'no-store' : 'max-age=3600' });
    });
  };

  const server = http.createServer(async (req, res) => {
    try {
      if (!isLoopbackHost(req.headers.host))
        return send(res, 403, 'text/plain', 'Only loopback host names are served.');
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const bearer = req.headers.authorization?.startsWith('Bearer ') ? req.headers.authorization.slice(7) : undefined;
      const queryToken = url.searchParams.get('token') ?? undefined;
      const authorized = sameToken(cookieToken(req), token) || sameToken(bearer, token);

      if (req.method === 'GET' && !url.pathname.startsWith('/api/') && url.pathname !== '/media') {
        if (sameToken(queryToken, token)) {
          const cookie = `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`;
          return serveStatic(req, res, url.pathname, { 'Set-Cookie': cookie });
        }
        if (!authorized) {
          return send(
            res,
            401,
            'text/plain; charset=utf-8',
            'MoME Studio: open the address printed by `npm run serve` (it carries the access token).',
          );
        }
        return serveStatic(req, res, url.pathname);
      }
      if (!authorized) throw new ApiError('unauthorized', 'Missing or wrong access token.');

      if (req.method === 'GET' && url.pathname === '/api/events') {
        res.writeHead(200, {
          ...SECURITY_HEADERS,
          'Content-Type': 'text/event-stream',
          'Cache-Control': 'no-store',
          Connection: 'keep-alive',
        });
        res.write(': connected\n\n');
        clients.add(res);
        const beat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
        req.on('close', () => {
          clearInterval(beat);
          clients.delete(res);
        });
        return;
      }
      if (req.method === 'GET' && url.pathname === '/media') {
        const requested = url.searchParams.get('path');
        if (!requested) throw new ApiError('invalid_arguments', 'media: the path parameter is missing.');
        const thumbParam = url.searchParams.get('thumb');
        const thumb = thumbParam ? Number(thumbParam) : undefined;
        if (thumb !== undefined && !(Number.isInteger(thumb) && thumb >= 16 && thumb <= 1024)) {
          throw new ApiError('invalid_arguments', 'media: thumb must be an integer between 16 and 1024.');
        }
        const media = await backend.media(requested, thumb);
        return send(res, 200, media.contentType, media.body, { 'Cache-Control': 'private, max-age=300' });
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
