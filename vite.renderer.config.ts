import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The renderer is served from mome://app/ (Electron) or http://127.0.0.1:<port>/ (browser mode), always at
// the root, with a CSP that allows only 'self' scripts and styles.
export default defineConfig({
  root: 'renderer',
  base: './',
  plugins: [react()],
  build: {
    outDir: '../dist/renderer',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 1500,
  },
});
