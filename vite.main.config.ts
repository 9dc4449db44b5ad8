import { builtinModules } from 'node:module';
import { defineConfig } from 'vite';

// Native modules stay outside the bundle (they are loaded from node_modules, rebuilt for Electron).
// The package is "type": "module", so CommonJS bundles must end in .cjs.
export default defineConfig({
  build: {
    rollupOptions: {
      external: [
        'electron',
        'better-sqlite3',
        'sharp',
        'onnxruntime-node',
        ...builtinModules,
        ...builtinModules.map((m) => `node:${m}`),
      ],
      output: { format: 'cjs', entryFileNames: '[name].cjs' },
    },
  },
});
