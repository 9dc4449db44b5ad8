export function electronBinary(dir?: string, env?: NodeJS.ProcessEnv): string | null;
export function hasDisplay(platform?: string, env?: NodeJS.ProcessEnv): boolean;
export function chooseMode(opts: { binary: string | null; platform?: string; env?: NodeJS.ProcessEnv }): {
  mode: 'desktop' | 'browser';
  reason: string | null;
};
