// Electron main process: the hardened window, the mome:// protocol (renderer files + media under registered
// roots), and IPC wired to the same backend the HTTP bridge uses.
import { app, BrowserWindow, dialog, ipcMain, net, protocol, session, shell } from 'electron';
import fs from 'node:fs';
import path from 'node:path';
import { ApiError, eventNames } from '../api/contract';
import { toErrorBody } from '../api/dispatch';
import { IPC_CALL, IPC_EVENT } from '../api/names';
import { createBackend, type Backend } from '../backend/index';
import { SECURITY_HEADERS, STATIC_TYPES } from '../bridge/security';
import { isInside } from '../media/roots';
import { parseThumb } from '../media/serve';
import { defaultHome } from '../store/home';
import { rendererDir } from '../../model-runtime/src/index';

const ORIGIN = 'mome://app';

protocol.registerSchemesAsPrivileged([
  { scheme: 'mome', privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } },
]);

function respond(status: number, type: string, body: BodyInit | null): Response {
  return new Response(body, { status, headers: { ...SECURITY_HEADERS, 'Content-Type': type } });
}

async function handleProtocol(backend: Backend, staticDir: string, request: Request): Promise<Response> {
  const url = new URL(request.url);
  if (url.host !== 'app') return respond(404, 'text/plain', 'Not found');
  if (url.pathname === '/media') {
    try {
      // the same range check as the HTTP /media route (16..1024 px), before any file is read
      const thumb = parseThumb(url.searchParams.get('thumb'));
      const media = await backend.media(url.searchParams.get('path') ?? '', thumb);
      return respond(200, media.contentType, new Uint8Array(media.body));
    } catch (e) {
      const body = toErrorBody(e);
      const status = body.code === 'forbidden' ? 403 : body.code === 'invalid_arguments' ? 400 : 404;
      return respond(status, 'text/plain', body.message);
    }
  }
  const rel = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname).replace(/^\/+/, '');
  const file = path.resolve(staticDir, rel);
  if (!isInside(staticDir, file)) return respond(403, 'text/plain', 'Forbidden');
  const target = fs.existsSync(file) ? file : path.join(staticDir, 'index.html');
  const res = await net.fetch(`file://${target}`);
  return respond(res.status, STATIC_TYPES[path.extname(target)] ?? 'application/octet-stream', await res.arrayBuffer());
}

function harden() {
  app.on('web-contents-created', (_e, contents) => {
    contents.setWindowOpenHandler(({ url }) => {
      // links to documentation open in the user's browser, never inside the app
      if (url.startsWith('https://')) void shell.openExternal(url);
      return { action: 'deny' };
    });
    contents.on('will-navigate', (event, url) => {
      if (!url.startsWith(`${ORIGIN}/`)) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
  });
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  // no remote content: the renderer may load only from mome:// (and devtools)
  session.defaultSession.webRequest.onBeforeRequest((details, callback) => {
    const allowed = details.url.startsWith('mome:') || details.url.startsWith('devtools:');
    callback({ cancel: !allowed });
  });
}

async function main() {
  await app.whenReady();
  harden();
  const backend = createBackend({
    home: process.env.MOME_HOME ?? defaultHome(),
    mode: 'electron',
    registerSamples: !process.env.MOME_NO_SAMPLES,
    pickFolder: async (title) => {
      const win = BrowserWindow.getFocusedWindow();
      const options = { title, properties: ['openDirectory' as const] };
      const r = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
      return r.canceled ? null : (r.filePaths[0] ?? null);
    },
    pickFile: async (title, extensions) => {
      const win = BrowserWindow.getFocusedWindow();
      const filters = extensions.length ? [{ name: extensions.join(', '), extensions }] : [];
      const options = { title, filters, properties: ['openFile' as const] };
      const r = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
      return r.canceled ? null : (r.filePaths[0] ?? null);
    },
  });
  const staticDir = rendererDir();
  if (!staticDir) throw new Error('the renderer is not built: run `npm run build:renderer` (or `npm run package`)');
  protocol.handle('mome', (request) => handleProtocol(backend, staticDir, request));

  ipcMain.handle(IPC_CALL, async (event, name: unknown, args: unknown) => {
    if (!event.senderFrame?.url.startsWith(`${ORIGIN}/`)) {
      return { ok: false, error: new ApiError('forbidden', 'Calls are accepted only from the app window.').toBody() };
    }
    try {
      return { ok: true, result: await backend.call(String(name), args) };
    } catch (e) {
      return { ok: false, error: toErrorBody(e) };
    }
  });

  const window = new BrowserWindow({
    width: 1440,
    height: 900,
    title: 'MoME Studio',
    backgroundColor: '#14161a',
    webPreferences: {
      preload: path.join(__dirname, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  const offEvents = backend.events.onAny((name, payload) => {
    if (!window.isDestroyed()) window.webContents.send(IPC_EVENT, name, payload);
  }, eventNames);
  await window.loadURL(`${ORIGIN}/index.html`);

  app.on('window-all-closed', () => app.quit());
  app.on('before-quit', () => {
    offEvents();
    void backend.close();
  });
}

main().catch((e) => {
  console.error('MoME Studio could not start:', e);
  app.exit(1);
});
