// File access is limited to registered roots: a requested path is resolved through every symlink and
// must still lie inside one root's real path. Traversal ("..") and symlink escapes are refused.
import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../api/contract';
import type { MediaRoot } from '../api/schemas';
import { now, type Db } from '../store/db';

interface RootRow {
  id: number;
  path: string;
  label: string;
  created_at: string;
}
const toRoot = (r: RootRow): MediaRoot => ({ id: r.id, path: r.path, label: r.label, createdAt: r.created_at });

export class MediaRoots {
  constructor(private readonly db: Db) {}

  list(): MediaRoot[] {
    return (this.db.prepare('SELECT * FROM media_roots ORDER BY id').all() as RootRow[]).map(toRoot);
  }

  add(dir: string, label?: string): MediaRoot {
    let real: string;
    try {
      real = fs.realpathSync(dir);
    } catch {
      throw new ApiError('not_found', `The folder ${dir} does not exist.`);
    }
    if (!fs.statSync(real).isDirectory()) throw new ApiError('invalid_arguments', `${dir} is not a folder.`);
    const existing = this.db.prepare('SELECT * FROM media_roots WHERE path = ?').get(real) as RootRow | undefined;
    if (existing) return toRoot(existing);
    const info = this.db
      .prepare('INSERT INTO media_roots (path, label, created_at) VALUES (?, ?, ?)')
      .run(real, label ?? path.basename(real), now());
    return toRoot(this.db.prepare('SELECT * FROM media_roots WHERE id = ?').get(info.lastInsertRowid) as RootRow);
  }

  /** The real path of `requested` when it lies under a registered root; throws ApiError otherwise. */
  resolve(requested: string): string {
    if (!path.isAbsolute(requested)) throw new ApiError('invalid_arguments', 'A media path must be absolute.');
    let real: string;
    try {
      real = fs.realpathSync(requested);
    } catch {
      throw new ApiError('not_found', `No such file: ${requested}`);
    }
    for (const root of this.list()) {
      if (isInside(root.path, real)) return real;
    }
    throw new ApiError('forbidden', `${requested} is outside every registered data folder.`);
  }
}

/**
 * The same rule for one data folder (a dataset's root) as for the registered roots: the real path of
 * `root`/`file`, through every symlink, must lie inside the real path of `root`. Resolves to that real path;
 * rejects with ApiError 'forbidden' (a link leaving the folder, or ".." in `file`) or 'not_found'. Evaluation
 * and export read dataset files only through this, as the media route serves them only through resolve().
 */
export async function realPathInside(root: string, file: string, realRoot?: string): Promise<string> {
  realRoot ??= await realRootOf(root);
  const full = path.resolve(root, file);
  let real: string;
  try {
    real = await fs.promises.realpath(full);
  } catch {
    throw new ApiError('not_found', `No such file: ${full}`);
  }
  if (!isInside(realRoot, real)) {
    throw new ApiError('forbidden', `${full} leads outside the dataset folder ${root} (to ${real}).`);
  }
  return real;
}

/** A folder's real path (for many realPathInside calls on one folder); the path itself if it does not exist. */
export function realRootOf(root: string): Promise<string> {
  return fs.promises.realpath(root).catch(() => path.resolve(root));
}

export function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}
