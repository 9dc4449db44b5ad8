// Small helpers shared by the setup, start and test scripts (plain Node, no dependencies: they run before
// node_modules exists).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  return r.status ?? 1;
}

export function say(line) {
  process.stdout.write(`[mome] ${line}\n`);
}

/** Newest modification time under a path (files only), 0 when missing. */
export function newestMtime(p) {
  if (!fs.existsSync(p)) return 0;
  const st = fs.statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const e of fs.readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, e)));
  return newest;
}

const PYTHON_CANDIDATES = ['python3', '/usr/bin/python3', 'python'];

/** The first interpreter that imports torch (MOME_PYTHON wins), or null. */
export function findTorchPython(env = process.env) {
  const candidates = env.MOME_PYTHON ? [env.MOME_PYTHON] : PYTHON_CANDIDATES;
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import torch, numpy, PIL'], { stdio: 'ignore' });
    if (r.status === 0) return py;
  }
  return null;
}

// ---- The PyTorch 2.x venv for the tests ----------------------------------------------------------------------
// The Python side is tested on researchers' PyTorch 2.x (this venv) and on Debian's python3-torch 1.13
// (/usr/bin/python3). `torch==` is pinned: a bare `torch` from PyPI is a CUDA build of several GB.

export const TEST_VENV = path.join(root, '.venv-torch2');
// Pillow below 13: Pillow 13.0 changed BICUBIC's output (e.g. a 300×900 → 160×160 reduction differs in about a
// fifth of its bytes), and the image pre-processing is PIL-exact against Pillow 9.4 to 12 (the official pipeline's).
export const TEST_VENV_REQUIREMENTS = ['torch==2.13.0', 'numpy', 'Pillow<13', 'onnx', 'onnxruntime', 'safetensors'];
const STAMP = '.mome-requirements';
/** Debian's interpreter, with python3-torch 1.13. */
export const SYSTEM_PYTHON = '/usr/bin/python3';

/** The interpreter inside a venv folder. */
export function venvPython(dir = TEST_VENV) {
  return process.platform === 'win32' ? path.join(dir, 'Scripts', 'python.exe') : path.join(dir, 'bin', 'python');
}

/** The venv's interpreter when it holds exactly TEST_VENV_REQUIREMENTS (its stamp says so), else null. */
export function testVenvPython(dir = TEST_VENV) {
  const stamp = path.join(dir, STAMP);
  const py = venvPython(dir);
  if (!fs.existsSync(py) || !fs.existsSync(stamp)) return null;
  return fs.readFileSync(stamp, 'utf8').trim() === TEST_VENV_REQUIREMENTS.join('\n') ? py : null;
}

const PROBE = `import importlib.util as u, json, sys
try:
    import torch
    t = torch.__version__
except Exception:
    t = None
print(json.dumps({"python": "%d.%d.%d" % sys.version_info[:3], "prefix": sys.prefix, "torch": t,
                  "venv": u.find_spec("venv") is not None, "ensurepip": u.find_spec("ensurepip") is not None}))`;

/** {python, prefix, torch (null without), venv, ensurepip} of an interpreter, or null when it does not run. */
export function probePython(py, env = process.env) {
  const r = spawnSync(py, ['-c', PROBE], { encoding: 'utf8', env, timeout: 120_000 });
  if (r.status !== 0) return null;
  try {
    return JSON.parse(r.stdout.trim().split('\n').at(-1));
  } catch {
    return null;
  }
}

/** A Python >= 3.10 with venv and ensurepip to make the test venv with (the first on PATH that fits), or null. */
export function findVenvBase(env = process.env) {
  for (const py of ['python3', 'python3.13', 'python3.12', 'python3.11', 'python3.10', 'python']) {
    const p = probePython(py, env);
    if (!p || !p.venv || !p.ensurepip) continue;
    const [major, minor] = p.python.split('.').map(Number);
    if (major === 3 && minor >= 10) return { python: py, version: p.python };
  }
  return null;
}

function lastErrorLine(output) {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.filter((l) => /^ERROR:|Error|error:/.test(l)).at(-1) ?? lines.at(-1) ?? 'no output';
}

/**
 * Makes (or finds) the test venv with TEST_VENV_REQUIREMENTS. Quick when its stamp matches. Never throws: when no
 * suitable Python is here, or pip cannot get the packages (no PyPI, no torch wheel), it says why in one line and
 * resolves to { python: null, reason }.
 */
export function ensureTestVenv({ dir = TEST_VENV, env = process.env, log = say } = {}) {
  const ready = testVenvPython(dir);
  if (ready) return { python: ready, created: false, reason: null };
  const rel = path.relative(root, dir) || dir;
  const fail = (reason) => {
    log(`No PyTorch 2.x test venv: ${reason}. The Python tests run on Debian's torch 1.13 only.`);
    return { python: null, created: false, reason };
  };
  const base = findVenvBase(env);
  if (!base) return fail('no Python >= 3.10 with venv and ensurepip on PATH (Debian: apt-get install python3-venv)');
  const started = Date.now();
  log(
    `Making the PyTorch 2.x test venv ${rel} with ${base.python} ${base.version}: ${TEST_VENV_REQUIREMENTS.join(' ')}…`,
  );
  fs.rmSync(dir, { recursive: true, force: true });
  const mk = spawnSync(base.python, ['-m', 'venv', dir], { encoding: 'utf8', env });
  if (mk.status !== 0) return fail(`\`${base.python} -m venv\` failed: ${lastErrorLine(`${mk.stdout}${mk.stderr}`)}`);
  // Few retries and a short timeout: without PyPI this fails in seconds rather than minutes.
  const pip = spawnSync(
    venvPython(dir),
    [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      '--retries',
      '1',
      '--timeout',
      '20',
      ...TEST_VENV_REQUIREMENTS,
    ],
    { encoding: 'utf8', env: { ...env, PIP_NO_INPUT: '1' }, maxBuffer: 64 * 1024 * 1024 },
  );
  if (pip.status !== 0) {
    fs.rmSync(dir, { recursive: true, force: true });
    return fail(
      `pip could not install them (PyPI or the torch wheel unreachable?): ${lastErrorLine(`${pip.stdout}${pip.stderr}`)}`,
    );
  }
  fs.writeFileSync(path.join(dir, STAMP), `${TEST_VENV_REQUIREMENTS.join('\n')}\n`);
  log(`Test venv ready in ${Math.round((Date.now() - started) / 1000)} s: ${venvPython(dir)}`);
  return { python: venvPython(dir), created: true, reason: null };
}

/**
 * The interpreters the tests run on, each once (by sys.prefix), every one importing torch: MOME_PYTHON when set,
 * else the test venv; then the others of the test venv and Debian's /usr/bin/python3. [{python, version, torch, label}]
 */
export function testInterpreters(env = process.env) {
  const wanted = [env.MOME_PYTHON, testVenvPython(), SYSTEM_PYTHON, findTorchPython({ ...env, MOME_PYTHON: '' })];
  const out = [];
  const prefixes = new Set();
  for (const py of wanted) {
    if (!py) continue;
    const p = probePython(py, env);
    if (!p || !p.torch || prefixes.has(p.prefix)) continue;
    prefixes.add(p.prefix);
    out.push({ python: py, version: p.python, torch: p.torch, label: `torch ${p.torch}, Python ${p.python} (${py})` });
  }
  return out;
}

/**
 * The environment that makes `python` THE interpreter of a test run: MOME_PYTHON set to it, and it first on PATH
 * as `python3`/`python` (a venv's own bin folder, else a folder of links to it), so that a test which unsets
 * MOME_PYTHON still finds the same one by the automatic search.
 */
export function pythonTestEnv(python, env = process.env) {
  if (!path.isAbsolute(python)) return { ...env, MOME_PYTHON: python };
  const dir = path.dirname(python);
  let bin = dir;
  if (!fs.existsSync(path.join(dir, '..', 'pyvenv.cfg'))) {
    const name = python.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_+/, '');
    bin = path.join(os.tmpdir(), `mome-test-python-${name}`);
    fs.mkdirSync(bin, { recursive: true });
    for (const alias of ['python3', 'python']) {
      const link = path.join(bin, alias);
      let current = null;
      try {
        current = fs.readlinkSync(link);
      } catch {
        // not there yet
      }
      if (current === python) continue; // (two test runs at once share the folder)
      fs.rmSync(link, { force: true });
      fs.symlinkSync(python, link);
    }
  }
  return { ...env, MOME_PYTHON: python, PATH: [bin, env.PATH].filter(Boolean).join(path.delimiter) };
}

// ---- npm install that survives no internet ------------------------------------------------------------------
// Two install scripts download from outside the npm registry: electron's (its binary, from GitHub or
// ELECTRON_MIRROR) and onnxruntime-node's on linux/x64 (the CUDA provider, from api.nuget.org; no mirror variable,
// only global-agent's GLOBAL_AGENT_HTTP(S)_PROXY). Without them the app still works: browser mode, CPU inference.

const ELECTRON_DEFAULT_MIRROR = 'https://github.com/electron/electron/releases/download/';
const NUGET_INDEX = 'https://api.nuget.org/v3/index.json';

/** What a download costs when skipped, and how to get it later (one phrase each, for the log lines). */
export const DOWNLOADS = {
  electron: {
    what: 'the Electron binary',
    loss: '`npm start` opens browser mode instead of the desktop app',
    skipEnv: ['ELECTRON_SKIP_BINARY_DOWNLOAD', '1'],
  },
  'onnxruntime-node': {
    what: "ONNX Runtime's CUDA provider",
    loss: 'inference runs on the CPU',
    skipEnv: ['ONNXRUNTIME_NODE_INSTALL', 'skip'],
  },
};

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

/** The value of an environment variable looked up without regard to case (as npm and global-agent do). */
function envAnyCase(env, name) {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(env)) if (k.toLowerCase() === lower && v) return v;
  return undefined;
}

/** electron_mirror from the project's or the user's .npmrc (npm passes it to electron's install script). */
function npmrcElectronMirror(cwd, env) {
  for (const file of [path.join(cwd, '.npmrc'), path.join(env.HOME ?? env.USERPROFILE ?? '', '.npmrc')]) {
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    const m = /^\s*electron_mirror\s*=\s*(\S+)/im.exec(text);
    if (m) return m[1];
  }
  return undefined;
}

function electronCacheDirs(env) {
  if (env.electron_config_cache) return [env.electron_config_cache];
  const home = env.HOME ?? env.USERPROFILE ?? '';
  if (process.platform === 'darwin') return [path.join(home, 'Library', 'Caches', 'electron')];
  if (process.platform === 'win32') return [path.join(env.LOCALAPPDATA ?? home, 'electron', 'Cache')];
  return [path.join(env.XDG_CACHE_HOME ?? path.join(home, '.cache'), 'electron')];
}

/** Is electron-v<version>-<platform>-<arch>.zip in @electron/get's cache (then its install needs no network)? */
function electronZipCached(version, env) {
  const zip = `electron-v${version}-${process.platform}-${process.arch}.zip`;
  for (const dir of electronCacheDirs(env)) {
    if (!fs.existsSync(dir)) continue;
    for (const sub of fs.readdirSync(dir)) if (fs.existsSync(path.join(dir, sub, zip))) return true;
  }
  return false;
}

/** host:port to probe for a URL, through the proxy that will carry it when there is one. */
function endpoint(url, proxy) {
  const u = new URL(proxy || url);
  return { host: u.hostname, port: Number(u.port) || (u.protocol === 'http:' ? 80 : 443) };
}

/** Would this package's install script download here, as far as the environment and the platform tell? */
export function downloadsOn(name, env = process.env, platform = process.platform, arch = process.arch) {
  if (name === 'electron') return !env.ELECTRON_SKIP_BINARY_DOWNLOAD;
  // onnxruntime-node's script/install.js: ONNXRUNTIME_NODE_INSTALL (skip | cuda12 | …), else the deprecated
  // ONNXRUNTIME_NODE_INSTALL_CUDA, else the platform's requirements (only linux/x64 has any: cuda12).
  const flag = env.ONNXRUNTIME_NODE_INSTALL || envAnyCase(env, 'npm_config_onnxruntime_node_install');
  if (flag) return flag !== 'skip';
  const cuda = env.ONNXRUNTIME_NODE_INSTALL_CUDA || envAnyCase(env, 'npm_config_onnxruntime_node_install_cuda');
  if (cuda) return cuda !== 'skip';
  return platform === 'linux' && arch === 'x64';
}

/**
 * The downloads an `npm install` in `cwd` would make beyond the registry: [{name, host, port}]. A package counts
 * when the lock file will (re)install it (its installed version differs) and the environment does not skip it.
 */
export function pendingDownloads({ cwd = root, env = process.env } = {}) {
  const lock = readJson(path.join(cwd, 'package-lock.json'))?.packages ?? {};
  const pkg = readJson(path.join(cwd, 'package.json')) ?? {};
  const declared = { ...pkg.dependencies, ...pkg.devDependencies, ...pkg.optionalDependencies };
  const willInstall = (name) => {
    const locked = lock[`node_modules/${name}`]?.version;
    if (!locked && !declared[name]) return false;
    const installed = readJson(path.join(cwd, 'node_modules', name, 'package.json'))?.version;
    return !installed || !locked || installed !== locked;
  };
  const out = [];

  if (downloadsOn('electron', env) && willInstall('electron')) {
    const version = lock['node_modules/electron']?.version;
    if (!version || !electronZipCached(version, env)) {
      const mirror =
        envAnyCase(env, 'npm_config_electron_mirror') ||
        env.npm_package_config_electron_mirror ||
        env.ELECTRON_MIRROR ||
        npmrcElectronMirror(cwd, env) ||
        ELECTRON_DEFAULT_MIRROR;
      // @electron/get uses a proxy only when asked (ELECTRON_GET_USE_PROXY), then GLOBAL_AGENT_* or the usual names.
      const https = mirror.startsWith('https:');
      const proxy = env.ELECTRON_GET_USE_PROXY
        ? (https && (envAnyCase(env, 'GLOBAL_AGENT_HTTPS_PROXY') || envAnyCase(env, 'HTTPS_PROXY'))) ||
          envAnyCase(env, 'GLOBAL_AGENT_HTTP_PROXY') ||
          envAnyCase(env, 'HTTP_PROXY')
        : undefined;
      // (GitHub redirects the download to its assets host; probing github.com is enough to tell "offline".)
      out.push({ name: 'electron', ...endpoint(mirror, proxy) });
    }
  }

  if (downloadsOn('onnxruntime-node', env) && willInstall('onnxruntime-node')) {
    const proxy = env.GLOBAL_AGENT_HTTPS_PROXY || env.GLOBAL_AGENT_HTTP_PROXY;
    out.push({ name: 'onnxruntime-node', ...endpoint(NUGET_INDEX, proxy) });
  }
  return out;
}

/** Does a TCP connection to host:port open within timeoutMs (name lookup included)? */
export function canConnect(host, port, timeoutMs = 3000) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** How to run npm: the npm that runs this script when there is one (npm_execpath), else `npm` on the PATH. */
function npmCommand(env) {
  const cli = env.npm_execpath;
  if (cli && /npm-cli\.c?js$/.test(cli)) return { cmd: process.execPath, pre: [cli], shell: false };
  return process.platform === 'win32'
    ? { cmd: 'npm.cmd', pre: [], shell: true }
    : { cmd: 'npm', pre: [], shell: false };
}

function runNpm(args, { cwd, env, stdio }) {
  const { cmd, pre, shell } = npmCommand(env);
  return new Promise((resolve) => {
    const child = spawn(cmd, [...pre, ...args], { cwd, env, shell, stdio: stdio === 'pipe' ? 'pipe' : 'inherit' });
    let output = '';
    child.stdout?.on('data', (d) => (output += d));
    child.stderr?.on('data', (d) => (output += d));
    child.on('error', (e) => resolve({ status: 1, output: output + String(e) }));
    child.on('close', (code) => resolve({ status: code ?? 1, output }));
  });
}

const list = (items) => (items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`);

function without(names) {
  const d = names.map((n) => DOWNLOADS[n]);
  return (
    `without ${list(d.map((x) => x.what))} (so ${list(d.map((x) => x.loss))}; ` +
    `to get ${names.length > 1 ? 'them' : 'it'} later, with internet: \`npm rebuild ${names.join(' ')}\`).`
  );
}

/**
 * `npm install --no-audit --no-fund [...args]` in cwd that survives no internet beyond the npm registry. First a quick
 * TCP probe of the hosts the install scripts download from (probe: false skips it): those unreachable are skipped
 * from the start. If npm still fails, it runs once more with every such download skipped (the probe can be wrong).
 * `npm install` rather than `npm ci`: it keeps an installed node_modules that is current, where `npm ci` always
 * deletes and reinstalls it.
 * Resolves to { status, skipped: names skipped, retried, output (stdio 'pipe' only) }.
 */
export async function installDependencies({
  cwd = root,
  env = process.env,
  log = say,
  args = [],
  probe = true,
  probeTimeoutMs = 3000,
  stdio = 'inherit',
} = {}) {
  const install = ['install', '--no-audit', '--no-fund', ...args];
  const skipped = [];
  let output = '';
  if (probe) {
    const pending = pendingDownloads({ cwd, env });
    const reach = await Promise.all(pending.map((p) => canConnect(p.host, p.port, probeTimeoutMs)));
    const down = pending.filter((_, i) => !reach[i]);
    if (down.length > 0) {
      const hosts = [...new Set(down.map((p) => `${p.host}:${p.port}`))];
      log(`Cannot reach ${list(hosts)}: installing ${without(down.map((p) => p.name))}`);
      skipped.push(...down.map((p) => p.name));
    }
  }
  const envFor = (names) => ({ ...env, ...Object.fromEntries(names.map((n) => DOWNLOADS[n].skipEnv)) });

  log(`Installing npm dependencies (npm ${install.join(' ')})…`);
  let r = await runNpm(install, { cwd, env: envFor(skipped), stdio });
  output += r.output;
  if (r.status === 0) return { status: 0, skipped, retried: false, output };

  const more = Object.keys(DOWNLOADS).filter((n) => !skipped.includes(n) && downloadsOn(n, env));
  if (more.length === 0) return { status: r.status, skipped, retried: false, output };
  log(`npm install failed, most likely on a download from outside the npm registry: retrying ${without(more)}`);
  skipped.push(...more);
  r = await runNpm(install, { cwd, env: envFor(skipped), stdio });
  output += r.output;
  return { status: r.status, skipped, retried: true, output };
}
