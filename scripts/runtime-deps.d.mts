export const NATIVE_MODULES: string[];
export function runtimePackageDirs(root: string, names?: string[]): string[];
