// The media methods of MomeApi: the folders whose images may be shown, and browsing the file system for a folder
// or file to import.
import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../api/contract';
import type { Handlers } from '../api/dispatch';
import type { EventHub } from '../api/events';
import type { MediaRoots } from './roots';

/** A folder listing shows at most this many entries (folders first). */
const MAX_ENTRIES = 500;

export function mediaHandlers(deps: {
  roots: MediaRoots;
  events: EventHub;
}): Pick<Handlers, 'listMediaRoots' | 'addMediaRoot' | 'listDirectory'> {
  const { roots, events } = deps;
  return {
    listMediaRoots: () => roots.list(),
    addMediaRoot: ({ path: dir, label }) => {
      const root = roots.add(dir, label);
      events.emit('dataChanged', { entity: 'mediaRoots', id: root.id });
      return root;
    },
    listDirectory: ({ path: dir, includeFiles }) => listDirectory(dir, includeFiles),
  };
}

async function listDirectory(dir: string, includeFiles: boolean) {
  let entries: fs.Dirent[];
  try {
    entries = await fs.promises.readdir(dir, { withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ApiError('not_found', `The folder ${dir} does not exist.`);
    if (code === 'ENOTDIR') throw new ApiError('invalid_arguments', `${dir} is not a folder.`);
    throw new ApiError('forbidden', `Cannot read ${dir}: ${(e as Error).message}`);
  }
  return entries
    .filter((e) => !e.name.startsWith('.') && (e.isDirectory() || (includeFiles && e.isFile())))
    .map((e) => ({ name: e.name, path: path.join(dir, e.name), isDirectory: e.isDirectory() }))
    .sort((a, b) => Number(b.isDirectory) - Number(a.isDirectory) || a.name.localeCompare(b.name))
    .slice(0, MAX_ENTRIES);
}
