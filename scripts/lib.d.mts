export const root: string;
export function run(cmd: string, args: string[], opts?: object): number;
export function say(line: string): void;
export function newestMtime(p: string): number;
export function findTorchPython(env?: NodeJS.ProcessEnv): string | null;
