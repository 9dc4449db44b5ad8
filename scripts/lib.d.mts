export const root: string;
export function run(cmd: string, args: string[], opts?: object): number;
export function say(line: string): void;
export function newestMtime(p: string): number;
export function findTorchPython(env?: NodeJS.ProcessEnv): string | null;
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
