// A real job: walk a folder (a dataset root), count files and images, detect the dataset kind.
// Symlinks are counted but never followed, so a scan cannot leave the folder it was given.
import fs from 'node:fs';
import path from 'node:path';
import type { FolderScan } from '../api/schemas';
import { detectDatasetKind } from './detect';
import type { JobContext } from '../jobs/service';

export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.bmp', '.tif', '.tiff']);

export async function scanFolder(root: string, ctx: JobContext): Promise<FolderScan> {
  const stat = await fs.promises.stat(root).catch(() => null);
  if (!stat) throw new Error(`The folder ${root} does not exist.`);
  if (!stat.isDirectory()) throw new Error(`${root} is a file, not a folder. Pick the folder that holds it.`);

  const result: FolderScan = {
    path: root,
    files: 0,
    directories: 0,
    images: 0,
    bytes: 0,
    imageExtensions: {},
    detectedKind: null,
    annotationFiles: [],
    unreadable: [],
  };
  const pending = [root];
  let discovered = 1;
  let done = 0;
  while (pending.length > 0) {
    ctx.throwIfCancelled();
    const dir = pending.pop()!;
    let entries: fs.Dirent[];
    try {
      entries = await fs.promises.readdir(dir, { withFileTypes: true });
    } catch (e) {
      result.unreadable.push(`${dir}: ${(e as Error).message}`);
      entries = [];
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        pending.push(full);
        discovered++;
        result.directories++;
      } else if (entry.isFile()) {
        result.files++;
        const ext = path.extname(entry.name).toLowerCase();
        if (IMAGE_EXTENSIONS.has(ext)) {
          result.images++;
          result.imageExtensions[ext] = (result.imageExtensions[ext] ?? 0) + 1;
        }
        try {
          result.bytes += (await fs.promises.lstat(full)).size;
        } catch (e) {
          result.unreadable.push(`${full}: ${(e as Error).message}`);
        }
        if (result.files % 500 === 0) ctx.throwIfCancelled();
      } else if (entry.isSymbolicLink()) {
        result.files++;
      }
    }
    done++;
    // The total is unknown until the walk ends; directories done over directories seen is monotonic enough
    // once clamped, and honest about being an estimate.
    ctx.progress(
      (done / discovered) * 0.95,
      `${result.files.toLocaleString('en')} files, ${result.images.toLocaleString('en')} images`,
    );
  }
  const detection = detectDatasetKind(root);
  result.detectedKind = detection.kind;
  result.annotationFiles = detection.annotationFiles.map((f) => path.relative(root, f));
  ctx.progress(1, `${result.files.toLocaleString('en')} files, ${result.images.toLocaleString('en')} images`);
  return result;
}
