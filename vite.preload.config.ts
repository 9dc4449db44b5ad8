import { defineConfig } from 'vite';

// A sandboxed preload must be one CommonJS file that requires nothing but 'electron'.
export default defineConfig({
  build: {
    rollupOptions: {
      external: ['electron'],
      output: { format: 'cjs', entryFileNames: '[name].cjs', inlineDynamicImports: true },
    },
  },
});
