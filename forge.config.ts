// Electron Forge: `electron-forge start` for development and `electron-forge package` for the packaged app
// that electron-builder (electron-builder.yml) turns into installers.
import type { ForgeConfig } from '@electron-forge/shared-types';
import { VitePlugin } from '@electron-forge/plugin-vite';

const config: ForgeConfig = {
  packagerConfig: {
    name: 'MoME Studio',
    executableName: 'mome-studio',
    asar: { unpack: '**/{*.node,*.so*,*.dylib,*.dll,assets/**}' },
    extraResource: ['assets'],
  },
  rebuildConfig: { onlyModules: ['better-sqlite3'] },
  makers: [],
  plugins: [
    new VitePlugin({
      build: [
        { entry: 'electron/app/main.ts', config: 'vite.main.config.ts', target: 'main' },
        { entry: 'electron/app/preload.ts', config: 'vite.preload.config.ts', target: 'preload' },
      ],
      renderer: [{ name: 'main_window', config: 'vite.renderer.config.ts' }],
    }),
  ],
};

export default config;
