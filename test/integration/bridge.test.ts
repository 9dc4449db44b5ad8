import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend, type Backend } from '../../electron/backend/index';
import { startBridge, type Bridge } from '../../electron/bridge/server';
import { tempDir } from './helpers/temp';

let backend: Backend;
let bridge: Bridge;
let dataRoot: string;
let outside: string;

async function api(method: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${bridge.baseUrl}/api/${method}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${bridge.token}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

beforeAll(async () => {
  const staticDir = tempDir();
  fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>MoME Studio</title>');
  backend = createBackend({ home: tempDir(), mode: 'browser' });
  bridge = await startBridge({ backend, staticDir });
  dataRoot = tempDir('mome-root-');
  outside = tempDir('mome-outside-');
  const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#3366cc' } })
    .png()
    .toBuffer();
  fs.mkdirSync(path.join(dataRoot, 'images'));
  fs.writeFileSync(path.join(dataRoot, 'images', 'a.png'), png);
  fs.writeFileSync(path.join(outside, 'secret.png'), png);
  fs.writeFileSync(path.join(dataRoot, 'notes.txt'), 'not an image');
  fs.symlinkSync(path.join(outside, 'secret.png'), path.join(dataRoot, 'images', 'escape.png'));
  fs.symlinkSync(outside, path.join(dataRoot, 'linked-dir'));
  await api('addMediaRoot', { path: dataRoot });
});
afterAll(async () => {
  await bridge.close();
  await backend.close();
});

describe('HTTP bridge', () => {
  it('binds 127.0.0.1 and answers a valid call', async () => {
    expect(bridge.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const { status, body } = await api('getAppInfo', {});
    expect(status).toBe(200);
    expect(body.mode).toBe('browser');
    expect(body.activeModel).toBeNull();
  });

  it('has no native dialogs in browser mode: the path fields serve', async () => {
    expect((await api('pickFile', { title: 'Choose a checkpoint', extensions: ['pt', 'ckpt'] })).body).toBeNull();
    expect((await api('pickFolder', {})).body).toBeNull();
  });

  it('refuses calls without the token', async () => {
    const res = await fetch(`${bridge.baseUrl}/api/getAppInfo`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as any).error.code).toBe('unauthorized');
    const media = await fetch(
      `${bridge.baseUrl}/media?path=${encodeURIComponent(path.join(dataRoot, 'images', 'a.png'))}`,
    );
    expect(media.status).toBe(401);
  });

  it('serves the app (no secret in it) with a strict CSP and sets no cookie: the page keeps the token', async () => {
    for (const url of [bridge.url, `${bridge.baseUrl}/`]) {
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(res.headers.get('set-cookie')).toBeNull();
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    }
  });

  it('refuses a foreign Host header (DNS rebinding)', async () => {
    const http = await import('node:http');
    const status = await new Promise<number>((resolve) => {
      http.get({ host: '127.0.0.1', port: bridge.port, path: '/', headers: { Host: 'evil.example:80' } }, (r) =>
        resolve(r.statusCode!),
      );
    });
    expect(status).toBe(403);
  });

  it.each([
    ['unknown method', 'dropDatabase', {}, 404, 'unknown_method', /no API method "dropDatabase"/],
    ['wrong type', 'getJob', { id: 'seven' }, 400, 'invalid_arguments', /getJob: id: .*number/],
    ['negative id', 'getJob', { id: -1 }, 400, 'invalid_arguments', /id/],
    ['unknown key', 'listJobs', { limit: 5, extra: true }, 400, 'invalid_arguments', /extra/],
    ['relative path', 'startFolderScan', { path: '../etc' }, 400, 'invalid_arguments', /absolute/],
    ['not JSON', 'listJobs', '{limit:', 400, 'invalid_arguments', /not valid JSON/],
    ['missing job', 'getJob', { id: 999999 }, 404, 'not_found', /no job 999999/],
    ['dotted extension', 'pickFile', { extensions: ['.pt'] }, 400, 'invalid_arguments', /without the dot/],
  ])('rejects a malformed call (%s) with a clear error', async (_name, method, body, status, code, message) => {
    const res = await api(method, body);
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect(res.body.error.message).toMatch(message);
  });

  it('serves media only under registered roots', async () => {
    const auth = { Authorization: `Bearer ${bridge.token}` };
    const get = (p: string, extra = '') =>
      fetch(`${bridge.baseUrl}/media?path=${encodeURIComponent(p)}${extra}`, { headers: auth });
    const ok = await get(path.join(dataRoot, 'images', 'a.png'));
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('image/png');
    // traversal out of the root
    expect((await get(path.join(dataRoot, 'images', '..', '..', path.basename(outside), 'secret.png'))).status).toBe(
      403,
    );
    expect((await get(`${dataRoot}/../${path.basename(outside)}/secret.png`)).status).toBe(403);
    // a symlink inside the root pointing outside it, to a file and through a directory
    expect((await get(path.join(dataRoot, 'images', 'escape.png'))).status).toBe(403);
    expect((await get(path.join(dataRoot, 'linked-dir', 'secret.png'))).status).toBe(403);
    // not an image
    expect((await get(path.join(dataRoot, 'notes.txt'))).status).toBe(403);
    // thumbnails are made with sharp, cached on disk
    const thumb = await get(path.join(dataRoot, 'images', 'a.png'), '&thumb=32');
    expect(thumb.status).toBe(200);
    const meta = await sharp(Buffer.from(await thumb.arrayBuffer())).metadata();
    expect(meta.format).toBe('jpeg');
    expect(meta.width).toBe(32);
  });

  it('answers corrupt, truncated, empty and 50,000 x 50,000 images with a clear error and stays up', async () => {
    const good = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } })
      .png()
      .toBuffer();
    const huge = Buffer.from(good);
    huge.writeUInt32BE(50_000, 16);
    huge.writeUInt32BE(50_000, 20);
    const files: Record<string, Buffer> = {
      'corrupt.jpg': Buffer.from('not a jpeg at all, just bytes'),
      'truncated.png': good.subarray(0, 30),
      'empty.png': Buffer.alloc(0),
      'huge.png': huge,
    };
    for (const [name, body] of Object.entries(files)) fs.writeFileSync(path.join(dataRoot, 'images', name), body);
    for (const name of Object.keys(files)) {
      const res = await fetch(
        `${bridge.baseUrl}/media?path=${encodeURIComponent(path.join(dataRoot, 'images', name))}&thumb=64`,
        {
          headers: { Authorization: `Bearer ${bridge.token}` },
        },
      );
      expect(res.status, name).toBe(400);
      expect(((await res.json()) as any).error.message).toMatch(
        new RegExp(`Cannot make a thumbnail of .*${name.replace('.', '\\.')}`),
      );
    }
    const { status } = await api('getAppInfo', {});
    expect(status).toBe(200);
  });

  it('streams job events over SSE', async () => {
    const folder = tempDir();
    fs.writeFileSync(path.join(folder, 'x.jpg'), 'x');
    const controller = new AbortController();
    const res = await fetch(`${bridge.baseUrl}/api/events`, {
      headers: { Authorization: `Bearer ${bridge.token}` },
      signal: controller.signal,
    });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    const { body } = await api('startFolderScan', { path: folder });
    let text = '';
    while (!text.includes('event: jobFinished')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    controller.abort();
    const finished = text.split('\n\n').find((f) => f.startsWith('event: jobFinished'))!;
    const job = JSON.parse(finished.split('\ndata: ')[1]);
    expect(job.id).toBe(body.id);
    expect(job.state).toBe('succeeded');
  });
});
