// The `mome` command as a user runs it: the CLI under tsx from the repository root, with its own MOME_HOME.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const repo = path.resolve(__dirname, '..', '..', '..');

export function runMome(home: string, args: string[], input?: string) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'electron/cli/main.ts', ...args], {
    cwd: repo,
    input,
    encoding: 'utf8',
    env: { ...process.env, MOME_HOME: home },
  });
}
