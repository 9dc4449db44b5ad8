// Where MoME Studio keeps its database, caches and model store.
// MOME_HOME overrides (tests, browser mode, several profiles); otherwise the platform's user-data folder,
// the same folder Electron's app.getPath('userData') gives for this product name.
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';

export const PRODUCT_DIR = 'MoME Studio';

export function defaultHome(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (env.MOME_HOME) return path.resolve(env.MOME_HOME);
  const home = os.homedir();
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', PRODUCT_DIR);
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), PRODUCT_DIR);
  return path.join(env.XDG_CONFIG_HOME ?? path.join(home, '.config'), PRODUCT_DIR);
}

export interface HomeLayout {
  root: string;
  database: string;
  cache: string;
  thumbnails: string;
  models: string;
}

export function ensureHome(root: string): HomeLayout {
  const layout: HomeLayout = {
    root,
    database: path.join(root, 'mome.sqlite'),
    cache: path.join(root, 'cache'),
    thumbnails: path.join(root, 'cache', 'thumbnails'),
    models: path.join(root, 'models'),
  };
  for (const dir of [layout.root, layout.cache, layout.thumbnails, layout.models])
    fs.mkdirSync(dir, { recursive: true });
  return layout;
}
