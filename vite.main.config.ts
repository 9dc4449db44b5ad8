import path from 'node:path';
import { builtinModules } from 'node:module';
import { defineConfig, type ConfigEnv } from 'vite';
import { WORKER_ENTRIES } from './model-runtime/src/runtime-paths';

// The main process as Forge builds it: the entry Forge names (electron/app/main.ts) plus each worker thread
// as an entry of its own, so that no worker needs TypeScript or tsx at run time (runtime-paths.ts finds them
// beside the bundle). Native modules stay outside the bundle (loaded from node_modules, rebuilt for
// Electron). The package is "type": "module", so every CommonJS file, shared chunks included, ends in .cjs.
export const MAIN_EXTERNALS = [
  'electron',
  'better-sqlite3',
  'sharp',
  'onnxruntime-node',
  ...builtinModules,
  ...builtinModules.map((m) => `node:${m}`),
];

type ForgeEnv = ConfigEnv & { forgeConfigSelf?: { entry?: string } };

export default defineConfig((env: ForgeEnv) => {
  const entry = env.forgeConfigSelf?.entry ?? 'electron/app/main.ts';
  return {
    build: {
      rollupOptions: {
        input: { [path.basename(entry).replace(/\.[cm]?[jt]s$/, '')]: entry, ...WORKER_ENTRIES },
        external: MAIN_EXTERNALS,
        output: { format: 'cjs' as const, entryFileNames: '[name].cjs', chunkFileNames: '[name]-[hash].cjs' },
      },
    },
  };
});
