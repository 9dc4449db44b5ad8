// Setup survives no internet beyond the npm registry: when the Electron binary and ONNX Runtime's CUDA provider
// cannot be downloaded, `npm install` still succeeds without them. The downloads are made unreachable here by
// pointing them at a closed local port (not by the CI variables that skip them): ELECTRON_MIRROR for electron,
// GLOBAL_AGENT_HTTP_PROXY for onnxruntime-node (its install script has no mirror variable; it honours global-agent's
// proxy variables). The packages come from the npm cache that the project's own install filled (--prefer-offline).
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canConnect, installDependencies, pendingDownloads, root } from '../../scripts/lib.mjs';

const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8')).packages;
const versions = {
  electron: lock['node_modules/electron'].version as string,
  'onnxruntime-node': lock['node_modules/onnxruntime-node'].version as string,
};
const linuxX64 = process.platform === 'linux' && process.arch === 'x64';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mome-setup-offline-'));
let closedPort = 0;

beforeAll(async () => {
  // A port that was just open and is now closed: connections to it are refused at once.
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closedPort = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** The environment of a user who did not ask to skip anything, with both download hosts unreachable. */
function offlineEnv(cacheDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    // Not the skip switches, proxies or mirrors of this machine, nor the npm_* of an `npm test` around us.
    if (/^(npm_|ELECTRON_|ONNXRUNTIME_NODE_|GLOBAL_AGENT_)/i.test(k) || /^(https?|no)_proxy$/i.test(k)) continue;
    env[k] = v;
  }
  env.ELECTRON_MIRROR = `http://127.0.0.1:${closedPort}/`;
  env.electron_config_cache = cacheDir; // empty: the binary is not already downloaded
  env.GLOBAL_AGENT_HTTP_PROXY = `http://127.0.0.1:${closedPort}`;
  return env;
}

function project(name: string) {
  const dir = path.join(work, name);
  fs.mkdirSync(path.join(dir, 'electron-cache'), { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ name, version: '1.0.0', private: true, dependencies: versions }, null, 2),
  );
  return dir;
}

/** A failure of the npm registry itself (not of the downloads under test) makes the test skip, saying so. */
function registryTrouble(output: string) {
  return /npm (error|ERR!) (code (E404|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|ENETUNREACH)|network)/.test(output);
}

async function install(dir: string, probe: boolean) {
  const lines: string[] = [];
  const result = await installDependencies({
    cwd: dir,
    env: offlineEnv(path.join(dir, 'electron-cache')),
    log: (line) => lines.push(line),
    args: ['--prefer-offline'],
    probe,
    stdio: 'pipe',
  });
  return { ...result, lines };
}

function expectInstalledWithoutDownloads(dir: string) {
  const electron = path.join(dir, 'node_modules', 'electron');
  expect(JSON.parse(fs.readFileSync(path.join(electron, 'package.json'), 'utf8')).version).toBe(versions.electron);
  expect(fs.existsSync(path.join(electron, 'path.txt'))).toBe(false);
  expect(fs.existsSync(path.join(electron, 'dist'))).toBe(false);
  const ort = path.join(dir, 'node_modules', 'onnxruntime-node');
  expect(fs.existsSync(path.join(ort, 'package.json'))).toBe(true);
  if (linuxX64) {
    const bin = path.join(ort, 'bin', 'napi-v6', 'linux', 'x64');
    expect(fs.existsSync(path.join(bin, 'onnxruntime_binding.node'))).toBe(true); // the CPU build ships in the package
    expect(fs.existsSync(path.join(bin, 'libonnxruntime_providers_cuda.so'))).toBe(false);
  }
}

describe('npm install without the downloads from outside the registry', () => {
  it('sees the download hosts a fresh install would use', () => {
    const dir = project('targets');
    const env = offlineEnv(path.join(dir, 'electron-cache'));
    const targets = pendingDownloads({ cwd: dir, env });
    expect(targets).toContainEqual({ name: 'electron', host: '127.0.0.1', port: closedPort });
    if (linuxX64) expect(targets).toContainEqual({ name: 'onnxruntime-node', host: '127.0.0.1', port: closedPort });
    delete env.ELECTRON_MIRROR;
    delete env.GLOBAL_AGENT_HTTP_PROXY;
    expect(pendingDownloads({ cwd: dir, env })[0]).toEqual({ name: 'electron', host: 'github.com', port: 443 });
    if (linuxX64) expect(pendingDownloads({ cwd: dir, env })[1]).toMatchObject({ host: 'api.nuget.org' });
    expect(pendingDownloads({ cwd: dir, env: { ...env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' } })).not.toContainEqual(
      expect.objectContaining({ name: 'electron' }),
    );
    expect(pendingDownloads({ cwd: dir, env: { ...env, ONNXRUNTIME_NODE_INSTALL: 'skip' } })).not.toContainEqual(
      expect.objectContaining({ name: 'onnxruntime-node' }),
    );
  });

  it('retries without them when npm install fails on them', { timeout: 240_000 }, async (ctx) => {
    const dir = project('retry');
    const r = await install(dir, false);
    if (r.status !== 0 && registryTrouble(r.output)) ctx.skip(`the npm registry is unreachable:\n${r.output}`);
    expect(r.status, r.output).toBe(0);
    expect(r.retried).toBe(true);
    expect(r.output).toMatch(/ECONNREFUSED 127\.0\.0\.1/); // the first attempt did try, and failed
    expect(r.lines.join('\n')).toMatch(
      /npm install failed, most likely on a download from outside the npm registry: retrying without the Electron binary/,
    );
    expect(r.lines.join('\n')).toMatch(/npm rebuild electron/);
    expectInstalledWithoutDownloads(dir);
  });

  it('skips them from the start when their hosts are unreachable', { timeout: 240_000 }, async (ctx) => {
    expect(await canConnect('127.0.0.1', closedPort, 2000)).toBe(false);
    const dir = project('probe');
    const started = Date.now();
    const r = await install(dir, true);
    if (r.status !== 0 && registryTrouble(r.output)) ctx.skip(`the npm registry is unreachable:\n${r.output}`);
    expect(r.status, r.output).toBe(0);
    expect(r.retried).toBe(false);
    expect(r.skipped).toContain('electron');
    expect(r.lines[0]).toMatch(
      new RegExp(`^Cannot reach 127\\.0\\.0\\.1:${closedPort}: installing without the Electron`),
    );
    expect(r.output).not.toMatch(/ECONNREFUSED/);
    expectInstalledWithoutDownloads(dir);
    expect(Date.now() - started).toBeLessThan(120_000);
  });
});
