// The app as it ships, laid out under a folder: the main process built by Electron Forge's own Vite config
// generator from forge.config.ts (so vite.main.config.ts and Forge's defaults are both applied), plus the
// browser-mode server built as one more entry of that same main config (Electron's own APIs cannot run here,
// so main.cjs is built but not started). The layout is the packaged app's, unpacked (asar: false):
//   <dir>/resources/app/.vite/build/{main,serve,preload,preprocess-worker,projection-worker}.cjs
//   <dir>/resources/app/.vite/renderer/main_window/     Forge's renderer build
//   <dir>/resources/app/package.json                    as Forge writes it
//   <dir>/resources/app/node_modules/                   only what scripts/runtime-deps.mjs names
//   <dir>/resources/assets/  <dir>/resources/python/    forge.config.ts's extraResource
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { build, type InlineConfig } from 'vite';
import type { ForgeConfig } from '@electron-forge/shared-types';
import { runtimePackageDirs } from '../../../scripts/runtime-deps.mjs';
import { repo } from './finetune';

export interface ShippedLayout {
  resources: string;
  app: string;
  /** The bundled browser-mode server: `node <serve> --port 0` runs the backend with no tsx and no sources. */
  serve: string;
}

interface ViteConfigGenerator {
  getBuildConfigs(): Promise<InlineConfig[]>;
  getRendererConfig(): Promise<InlineConfig[]>;
}

async function forgeViteConfigs(): Promise<{ main: InlineConfig; preload: InlineConfig; renderer: InlineConfig }> {
  const forge = ((await import('../../../forge.config')) as { default: ForgeConfig }).default;
  const vite = forge.plugins?.find((p) => (p as { name?: string }).name === 'vite') as unknown as { config: unknown };
  const require = createRequire(path.join(repo, 'package.json'));
  const Generator = (
    require('@electron-forge/plugin-vite/dist/ViteConfig') as {
      default: new (config: unknown, dir: string, isProd: boolean) => ViteConfigGenerator;
    }
  ).default;
  const generator = new Generator(vite.config, repo, true);
  const [main, preload] = await generator.getBuildConfigs();
  const [renderer] = await generator.getRendererConfig();
  return { main, preload, renderer };
}

function withOutDir(config: InlineConfig, outDir: string): InlineConfig {
  return { ...config, configFile: false, logLevel: 'error', build: { ...config.build, outDir, watch: null } };
}

/** Hard links (same file system) or copies `from` into `to`. */
function copyTree(from: string, to: string) {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  try {
    execFileSync('cp', ['-al', from, to]);
  } catch {
    fs.cpSync(from, to, { recursive: true });
  }
}

export async function buildShippedLayout(dir: string): Promise<ShippedLayout> {
  const resources = path.join(dir, 'resources');
  const app = path.join(resources, 'app');
  const { main, preload, renderer } = await forgeViteConfigs();
  const input = main.build?.rollupOptions?.input as Record<string, string>;
  if (!input || typeof input !== 'object' || !input.main) {
    throw new Error(`Forge's main config has no object input with a main entry: ${JSON.stringify(input)}`);
  }
  const buildDir = path.join(app, '.vite', 'build');
  const mainConfig = withOutDir(main, buildDir);
  mainConfig.build!.rollupOptions = {
    ...main.build!.rollupOptions,
    input: { ...input, serve: 'electron/bridge/serve.ts' },
  };
  await build(mainConfig);
  await build(withOutDir(preload, buildDir));
  await build(withOutDir(renderer, path.join(app, '.vite', 'renderer', 'main_window')));

  const pkg = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')) as { config?: { forge?: unknown } };
  delete pkg.config?.forge;
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify(pkg, null, 2));
  for (const rel of runtimePackageDirs(repo)) {
    if (rel.split('/node_modules/').length > 1) continue; // nested: came with its parent
    copyTree(path.join(repo, rel), path.join(app, rel));
  }
  copyTree(path.join(repo, 'assets'), path.join(resources, 'assets'));
  copyTree(path.join(repo, 'model-runtime', 'python'), path.join(resources, 'python'));
  return { resources, app, serve: path.join(buildDir, 'serve.cjs') };
}
