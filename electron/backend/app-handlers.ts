// The app methods of MomeApi: what the About box and the status bar show, and the native dialogs the Electron
// shell lends (browser mode has none: the UI offers a path field instead).
import os from 'node:os';
import type { Handlers } from '../api/dispatch';
import type { ModelRegistry } from '../models/registry';
import type { HomeLayout } from '../store/home';
import { appVersion } from './version';

export interface AppShell {
  mode: 'electron' | 'browser';
  /** The native folder dialog, given by the Electron shell (the backend itself never imports electron). */
  pickFolder?: (title: string) => Promise<string | null>;
  /** The native file dialog, limited to the given extensions (none: any file). */
  pickFile?: (title: string, extensions: string[]) => Promise<string | null>;
}

export function appHandlers(deps: {
  shell: AppShell;
  home: HomeLayout;
  models: ModelRegistry;
}): Pick<Handlers, 'getAppInfo' | 'pickFolder' | 'pickFile'> {
  const { shell, home, models } = deps;
  return {
    getAppInfo: () => ({
      version: appVersion(),
      mode: shell.mode,
      home: home.root,
      databasePath: home.database,
      activeModel: activeModel(models),
      platform: `${os.platform()}-${os.arch()}`,
    }),
    pickFolder: async ({ title }) => (shell.pickFolder ? shell.pickFolder(title ?? 'Choose a folder') : null),
    pickFile: async ({ title, extensions }) =>
      shell.pickFile ? shell.pickFile(title ?? 'Choose a file', extensions ?? []) : null,
  };
}

function activeModel(models: ModelRegistry) {
  const m = models.active();
  if (!m) return null;
  const p = models.providerFor();
  return { name: m.name, version: m.version, provider: p.provider, providerReason: p.reason, device: p.device };
}
