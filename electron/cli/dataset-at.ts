// The dataset of a folder named on the command line: the one imported from it, or imported now (with its own
// progress line; the command's own work starts again from 0).
import fs from 'node:fs';
import path from 'node:path';
import { importDataset } from '../datasets/importer';
import { datasetIdAt } from '../datasets/repository';
import { consoleContext } from '../jobs/console-context';
import type { Db } from '../store/db';

export async function datasetAt(db: Db, folder: string): Promise<{ id: number; root: string }> {
  const root = fs.realpathSync(folder);
  const id = datasetIdAt(db, root);
  if (id !== undefined) return { id, root };
  const importing = consoleContext(`import ${path.basename(root)}`);
  const s = await importDataset(db, { root }, importing).finally(() => importing.dispose());
  return { id: s.datasetId, root };
}
