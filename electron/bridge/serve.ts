// `npm run serve`: the app in browser mode. Also how a researcher uses a remote GPU box over an SSH tunnel:
//   ssh -L 8765:127.0.0.1:<port> gpu-box   then open http://localhost:8765/?token=...
import { spawn } from 'node:child_process';
import { createBackend } from '../backend/index';
import { defaultHome } from '../store/home';
import { rendererDir } from '../../model-runtime/src/index';
import { startBridge } from './server';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function openBrowser(url: string) {
  if (process.env.CI || process.argv.includes('--no-open') || process.env.MOME_NO_OPEN) return;
  const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return;
  const child = spawn(opener, [url], { stdio: 'ignore', detached: true });
  child.on('error', () => undefined);
  child.unref();
}

async function main() {
  const staticDir = rendererDir();
  if (!staticDir) {
    console.error('The renderer is not built (no index.html in dist/renderer). Run: npm run build:renderer');
    process.exit(1);
  }
  const home = arg('--home') ?? defaultHome();
  const backend = createBackend({ home, mode: 'browser', registerSamples: !process.env.MOME_NO_SAMPLES });
  const portArg = arg('--port') ?? process.env.MOME_PORT;
  const bridge = await startBridge({ backend, staticDir, port: portArg ? Number(portArg) : 0 });
  console.log(`MoME Studio (browser mode), data in ${backend.home.root}`);
  console.log(`Open: ${bridge.url}`);
  console.log(
    `Over SSH: ssh -L ${bridge.port}:127.0.0.1:${bridge.port} <this host>, then open the same address locally.`,
  );
  openBrowser(bridge.url);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await bridge.close();
    await backend.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e) => {
  console.error(`MoME Studio could not start: ${(e as Error).message}`);
  process.exit(1);
});
