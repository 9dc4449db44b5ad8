// Hardening of the HTTP bridge: the token is a Bearer header only (no cookie, no ?token= on the API), <img>
// URLs carry a media ticket that opens /media and nothing else, malformed percent escapes and Host values get
// a 400, and thumb sizes are range-checked on both transports.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend, type Backend } from '../../electron/backend/index';
import { checkHost } from '../../electron/bridge/security';
import { startBridge, type Bridge } from '../../electron/bridge/server';
import { parseThumb } from '../../electron/media/serve';
import { tempDir } from './helpers/temp';

let backend: Backend;
let bridge: Bridge;
let image: string;

/** One raw HTTP/1.1 request (so that any Host value and any target can be sent); status line and body. */
function raw(target: string, host: string | null, headers: string[] = []): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(bridge.port, '127.0.0.1');
    let data = '';
    socket.on('data', (d) => (data += d));
    socket.on('error', reject);
    socket.on('end', () => resolve({ status: Number(data.split(' ')[1]), text: data }));
    socket.write(
      [
        `GET ${target} HTTP/1.1`,
        ...(host === null ? [] : [`Host: ${host}`]),
        'Connection: close',
        ...headers,
        '',
        '',
      ].join('\r\n'),
    );
  });
}

/** Opens the event stream and returns the media ticket of its session frame, and a function that closes it. */
async function session(previous?: string): Promise<{ ticket: string; close(): void }> {
  const controller = new AbortController();
  const res = await fetch(`${bridge.baseUrl}/api/events`, {
    headers: { Authorization: `Bearer ${bridge.token}`, ...(previous ? { 'X-Mome-Media-Ticket': previous } : {}) },
    signal: controller.signal,
  });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  let text = '';
  while (!text.includes('event: session') || !text.slice(text.indexOf('event: session')).includes('\n\n')) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  const frame = text.slice(text.indexOf('event: session')).split('\n\n')[0];
  const ticket = (JSON.parse(frame.split('\ndata: ')[1]) as { mediaTicket: string }).mediaTicket;
  return { ticket, close: () => controller.abort() };
}

const media = (query: string, headers: Record<string, string> = {}) =>
  fetch(`${bridge.baseUrl}/media?path=${encodeURIComponent(image)}${query}`, { headers });

beforeAll(async () => {
  const staticDir = tempDir();
  fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>MoME Studio</title>');
  backend = createBackend({ home: tempDir(), mode: 'browser' });
  bridge = await startBridge({ backend, staticDir });
  const root = tempDir('mome-root-');
  image = path.join(root, 'a.png');
  fs.writeFileSync(
    image,
    await sharp({ create: { width: 64, height: 48, channels: 3, background: '#3366cc' } })
      .png()
      .toBuffer(),
  );
  await backend.call('addMediaRoot', { path: root });
});
afterAll(async () => {
  await bridge.close();
  await backend.close();
});

describe('the token stays with its own server', () => {
  it('is never set as a cookie, and a cookie or ?token= does not authorize a call', async () => {
    const page = await fetch(bridge.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('set-cookie')).toBeNull();
    const call = (url: string, headers: Record<string, string> = {}) =>
      fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: '{}' });
    expect((await call(`${bridge.baseUrl}/api/getAppInfo`, { Cookie: `mome_token=${bridge.token}` })).status).toBe(401);
    expect((await call(`${bridge.baseUrl}/api/getAppInfo?token=${bridge.token}`)).status).toBe(401);
    expect((await call(`${bridge.baseUrl}/api/getAppInfo`, { Authorization: `Bearer ${bridge.token}` })).status).toBe(
      200,
    );
    const events = await fetch(`${bridge.baseUrl}/api/events?token=${bridge.token}`);
    expect(events.status).toBe(401);
  });

  it('serves the static app without the token: it holds no secret', async () => {
    const res = await fetch(`${bridge.baseUrl}/`);
    expect(res.status).toBe(200);
    expect(await res.text()).not.toContain(bridge.token);
  });

  it('hands each event stream a media ticket that opens /media only, while the stream lives', async () => {
    const s = await session();
    expect(s.ticket).toMatch(/^[0-9a-f]{48}$/);
    expect(s.ticket).not.toBe(bridge.token);
    expect((await media(`&thumb=32&ticket=${s.ticket}`)).status).toBe(200);
    expect((await media('&thumb=32')).status).toBe(401);
    expect((await media(`&thumb=32&ticket=${s.ticket.replace(/.$/, (c) => (c === '0' ? '1' : '0'))}`)).status).toBe(
      401,
    );
    expect((await media(`&thumb=32&ticket=${bridge.token}`)).status).toBe(401);
    // the ticket is no access token
    const call = await fetch(`${bridge.baseUrl}/api/getAppInfo`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${s.ticket}` },
      body: '{}',
    });
    expect(call.status).toBe(401);
    expect((await fetch(`${bridge.baseUrl}/api/getAppInfo?ticket=${s.ticket}`, { method: 'POST' })).status).toBe(401);
    // a reconnecting page keeps its ticket (and so its image URLs); a stranger's guess gets a fresh one
    s.close();
    const again = await session(s.ticket);
    expect(again.ticket).toBe(s.ticket);
    const other = await session('0'.repeat(48));
    expect(other.ticket).not.toBe('0'.repeat(48));
    expect(other.ticket).not.toBe(s.ticket);
    again.close();
    other.close();
  });
});

describe('malformed requests get a 400, not a 500', () => {
  it.each(['/%E0%A4%A', '/%E0%A4%A.js', '/api/%E0%A4%A', '/media?path=%E0%A4%A', '/%', '/%zz', '/?token=%C0%AF'])(
    'a malformed percent escape: %s',
    async (target) => {
      const res = await raw(target, `127.0.0.1:${bridge.port}`, [`Authorization: Bearer ${bridge.token}`]);
      expect(res.status).toBe(400);
      expect(res.text).toMatch(/malformed percent escape/);
      expect(res.text).not.toMatch(/at .*\.ts:\d+|URIError/);
    },
  );

  it('well-formed escapes still work', async () => {
    expect((await raw('/%69ndex.html', `127.0.0.1:${bridge.port}`)).status).toBe(200);
    expect((await raw('/caf%C3%A9', `127.0.0.1:${bridge.port}`)).status).toBe(200); // a client route: the app
  });

  it.each([
    ['localhost:abc'],
    ['127.0.0.1:99999'],
    ['127.0.0.1:'],
    ['127.0.0.1:80:80'],
    ['127.0.0.1 evil.example'],
    ['user@127.0.0.1'],
    ['[::1'],
    ['[::1]junk'],
    ['127.0.0.1%00'],
    ['127.0.0.1/x'],
    [''],
  ])('a malformed Host value %j', async (host) => {
    const res = await raw('/', host);
    expect(res.status).toBe(400);
  });

  it('a missing Host is refused', async () => {
    expect((await raw('/', null)).status).toBe(400);
  });

  it('a well-formed foreign Host is refused as before (403), loopback ones are served', async () => {
    expect((await raw('/', 'evil.example')).status).toBe(403);
    expect((await raw('/', 'evil.example:8080')).status).toBe(403);
    expect((await raw('/', '127.0.0.2')).status).toBe(403);
    for (const host of ['127.0.0.1', `127.0.0.1:${bridge.port}`, 'localhost:8765', 'LOCALHOST', '[::1]:8765'])
      expect((await raw('/', host)).status, host).toBe(200);
    expect(checkHost('[::1]:65535')).toBe('loopback');
    expect(checkHost('[::1]:65536')).toBe('malformed');
    expect(checkHost(undefined)).toBe('malformed');
  });
});

describe('thumb sizes', () => {
  it.each(['0', '15', '1025', '16.5', '1e2', '-16', 'abc', '', '0x20', '00032'])(
    'refuses thumb=%j on /media with a 400',
    async (thumb) => {
      const res = await media(`&thumb=${thumb}`, { Authorization: `Bearer ${bridge.token}` });
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).error.message).toMatch(/thumb must be an integer between 16 and 1024/);
    },
  );

  it('accepts 16 and 1024, and the check the mome:// handler uses is the same', async () => {
    for (const thumb of ['16', '1024'])
      expect((await media(`&thumb=${thumb}`, { Authorization: `Bearer ${bridge.token}` })).status).toBe(200);
    expect(parseThumb(null)).toBeUndefined();
    expect(parseThumb('256')).toBe(256);
    for (const bad of ['0', '2000', '1.5', 'NaN', ''])
      expect(() => parseThumb(bad)).toThrow(/thumb must be an integer between 16 and 1024/);
    await expect(backend.media(image, 4096)).rejects.toThrow(/thumb must be an integer/);
  });
});
