// Electron Forge: `electron-forge start` for development and `electron-forge package` for the packaged app
// that electron-builder (electron-builder.yml) turns into installers.
//
// What the packaged app holds (model-runtime/src/runtime-paths.ts finds each part):
// - app.asar: .vite/ (the main-process bundle with its worker entries, the preload, the renderer),
//   package.json, and node_modules with only the native modules the bundle loads and what they require
//   (scripts/runtime-deps.mjs); their .node and shared libraries are unpacked beside the archive;
// - resources/assets and resources/python, outside the archive: Python cannot read inside an asar, and the
//   tiny model and sample datasets are read by path.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ForgeConfig } from '@electron-forge/shared-types';
import { VitePlugin } from '@electron-forge/plugin-vite';
import { FusesPlugin } from '@electron-forge/plugin-fuses';
import { FuseV1Options, FuseVersion } from '@electron/fuses';
import { runtimePackageDirs } from './scripts/runtime-deps.mjs';

const keep = [
  '/.vite',
  '/package.json',
  ...runtimePackageDirs(path.dirname(fileURLToPath(import.meta.url))).map((dir) => `/${dir}`),
];

/** Packager's filter (paths start with '/'): keep the bundle and the runtime packages, and their parents. */
function ignore(file: string): boolean {
  if (!file) return false;
  const p = file.split(path.sep).join('/');
  return !keep.some((k) => p === k || p.startsWith(`${k}/`) || k.startsWith(`${p}/`));
}

const config: ForgeConfig = {
  packagerConfig: {
    name: 'MoME Studio',
    executableName: 'mome-studio',
    asar: { unpack: '**/{*.node,*.so*,*.dylib,*.dll}' },
    // resources/assets and resources/python (the folder's own name is kept)
    extraResource: ['assets', 'model-runtime/python'],
    ignore,
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
    // Set at package time on the Electron binary itself.
    new FusesPlugin({
      version: FuseVersion.V1,
      [FuseV1Options.RunAsNode]: false,
      [FuseV1Options.EnableCookieEncryption]: true,
      [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
      [FuseV1Options.EnableNodeCliInspectArguments]: false,
      [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
      [FuseV1Options.OnlyLoadAppFromAsar]: true,
    }),
  ],
};

export default config;
