export const root: string;
export function run(cmd: string, args: string[], opts?: object): number;
export function say(line: string): void;
export function newestMtime(p: string): number;
export function findTorchPython(env?: NodeJS.ProcessEnv): string | null;
export const TEST_VENV: string;
export const TEST_VENV_REQUIREMENTS: string[];
export const SYSTEM_PYTHON: string;
export function venvPython(dir?: string): string;
export function testVenvPython(dir?: string): string | null;
export interface PythonProbe {
  python: string;
  prefix: string;
  torch: string | null;
  venv: boolean;
  ensurepip: boolean;
}
export function probePython(py: string, env?: NodeJS.ProcessEnv): PythonProbe | null;
export function findVenvBase(env?: NodeJS.ProcessEnv): { python: string; version: string } | null;
export function ensureTestVenv(opts?: { dir?: string; env?: NodeJS.ProcessEnv; log?: (line: string) => void }): {
  python: string | null;
  created: boolean;
  reason: string | null;
};
export interface TestInterpreter {
  python: string;
  version: string;
  torch: string;
  label: string;
}
export function testInterpreters(env?: NodeJS.ProcessEnv): TestInterpreter[];
export function pythonTestEnv(python: string, env?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
export interface Download {
  what: string;
  loss: string;
  skipEnv: [string, string];
}
export const DOWNLOADS: Record<'electron' | 'onnxruntime-node', Download>;
export function downloadsOn(name: string, env?: NodeJS.ProcessEnv, platform?: string, arch?: string): boolean;
export function pendingDownloads(opts?: {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}): { name: 'electron' | 'onnxruntime-node'; host: string; port: number }[];
export function canConnect(host: string, port: number, timeoutMs?: number): Promise<boolean>;
export function installDependencies(opts?: {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
  args?: string[];
  probe?: boolean;
  probeTimeoutMs?: number;
  stdio?: 'inherit' | 'pipe';
}): Promise<{ status: number; skipped: string[]; retried: boolean; output: string }>;
