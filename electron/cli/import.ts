// `mome import DIR [--kind coco|flickr30k|nlvr2] [--home DIR] [--refresh]`: the importer without the UI.
// Prints one JSON summary on stdout; on failure {"error": {...}} and exit code 1.
import { createBackend } from '../backend/index';
import { consoleContext } from '../jobs/console-context';
import { ImportError } from '../datasets/errors';
import { importDataset } from '../datasets/importer';
import { ApiError } from '../api/contract';
import { defaultHome } from '../store/home';
import type { DatasetKind } from '../api/schemas';

const USAGE = 'usage: mome import DIR [--kind coco|flickr30k|nlvr2] [--home DIR] [--refresh]';

export async function importCommand(argv: string[]): Promise<number> {
  let dir: string | undefined;
  let kind: DatasetKind | undefined;
  let home = defaultHome();
  let refresh = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--kind') {
      const k = argv[++i];
      if (k !== 'coco' && k !== 'flickr30k' && k !== 'nlvr2') {
        console.error(`--kind must be coco, flickr30k or nlvr2 (got ${k ?? 'nothing'}).\n${USAGE}`);
        return 2;
      }
      kind = k;
    } else if (a === '--home') home = argv[++i];
    else if (a === '--refresh') refresh = true;
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      return 0;
    } else if (!dir) dir = a;
    else {
      console.error(`unexpected argument ${a}\n${USAGE}`);
      return 2;
    }
  }
  if (!dir || !home) {
    console.error(USAGE);
    return 2;
  }
  const backend = createBackend({ home, mode: 'browser' });
  const ctx = consoleContext('import');
  try {
    const summary = await importDataset(backend.db, { root: dir, kind, refresh }, ctx);
    backend.roots.add(summary.root, summary.name);
    ctx.dispose();
    console.log(JSON.stringify(summary, null, 2));
    return 0;
  } catch (e) {
    ctx.dispose();
    const error =
      e instanceof ImportError
        ? { code: 'invalid_dataset', message: e.message, ...e.info }
        : e instanceof ApiError
          ? { ...e.toBody() }
          : { code: ctx.signal.aborted ? 'cancelled' : 'internal', message: (e as Error).message };
    console.log(JSON.stringify({ error }, null, 2));
    return 1;
  } finally {
    await backend.close();
  }
}
