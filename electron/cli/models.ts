// `mome models import PATH [--vocab FILE] [--home DIR]` and `mome models list [--all] [--home DIR]`: the model
// registry without the UI, for scripts. Both print JSON on stdout; a failure prints {"error": {...}} and exits 1.
import path from 'node:path';
import { createBackend, type Backend } from '../backend/index';
import type { Job } from '../api/schemas';
import { ApiError } from '../api/contract';
import { defaultHome } from '../store/home';

const USAGE = `usage: mome models import PATH [--vocab FILE] [--home DIR]
       mome models list [--all] [--home DIR]
PATH is an official VLMo checkpoint (.pt, .pth, .ckpt, .bin, .safetensors; converted) or a model folder (mome.json + graphs).`;

interface Parsed {
  action: string;
  path?: string;
  vocab?: string;
  home: string;
  all: boolean;
}

function parse(argv: string[]): Parsed | string {
  const [action, ...rest] = argv;
  const p: Parsed = { action: action ?? '', home: defaultHome(), all: false };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === '--home' || a === '--vocab') {
      const v = rest[++i];
      if (!v) return `${a} needs a value`;
      if (a === '--home') p.home = v;
      else p.vocab = v;
    } else if (a === '--all') p.all = true;
    else if (!p.path && !a.startsWith('-')) p.path = a;
    else return `unexpected argument ${a}`;
  }
  if (p.action !== 'import' && p.action !== 'list') return `unknown models action "${p.action}"`;
  if (p.action === 'import' && !p.path) return 'models import needs a PATH';
  return p;
}

async function importModel(b: Backend, source: string, vocab?: string): Promise<Job> {
  const job = (await b.call('startModelImport', {
    path: path.resolve(source),
    vocab: vocab && path.resolve(vocab),
  })) as Job;
  let said = '';
  const off = b.events.on('jobProgress', (j) => {
    if (j.id !== job.id || j.message === said) return; // one line per stage, not per tick
    said = j.message;
    process.stderr.write(`models import: ${(j.progress * 100).toFixed(0)}% ${j.message}\n`);
  });
  const onSigint = () => b.jobs.cancel(job.id);
  process.once('SIGINT', onSigint);
  try {
    return await b.jobs.wait(job.id);
  } finally {
    off();
    process.off('SIGINT', onSigint);
  }
}

export async function modelsCommand(argv: string[]): Promise<number> {
  if (argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    console.log(USAGE);
    return 0;
  }
  const p = parse(argv);
  if (typeof p === 'string') {
    console.error(`${p}\n${USAGE}`);
    return 2;
  }
  const b = createBackend({ home: p.home, mode: 'browser' });
  try {
    if (p.action === 'list') {
      console.log(JSON.stringify(await b.call('listModels', { includeRemoved: p.all }), null, 2));
      return 0;
    }
    const done = await importModel(b, p.path!, p.vocab);
    if (done.state !== 'succeeded') {
      console.log(JSON.stringify({ error: { code: done.state, message: done.error ?? done.state } }, null, 2));
      return 1;
    }
    console.log(JSON.stringify(done.result, null, 2));
    return 0;
  } catch (e) {
    const error = e instanceof ApiError ? e.toBody() : { code: 'internal', message: (e as Error).message };
    console.log(JSON.stringify({ error }, null, 2));
    return 1;
  } finally {
    await b.close();
  }
}
