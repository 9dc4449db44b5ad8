// `mome embed --model DIR --images DIR|LIST --out FILE.json`: image embeddings in file-name order, with a
// progress bar; unreadable files are listed with their error, not fatal.
import fs from 'node:fs';
import path from 'node:path';
import { MomeModel } from '../model/model';
import { parseFlags } from './args';

const USAGE = 'usage: mome embed --model DIR --images DIR|LIST --out FILE.json [--device auto|cpu|cuda] [--batch N]';
const IMAGE = /\.(jpe?g|png|webp|gif|bmp|tiff?)$/i;

function listImages(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.isFile() && IMAGE.test(e.name)) out.push(full);
    }
  };
  walk(dir);
  return out.sort();
}

function bar(done: number, total: number, started: number) {
  const frac = total ? done / total : 1;
  const secs = (Date.now() - started) / 1000;
  const rate = secs > 0 ? done / secs : 0;
  const eta = rate > 0 ? (total - done) / rate : 0;
  process.stderr.write(
    `\rembed [${'#'.repeat(Math.round(frac * 30)).padEnd(30, '.')}] ${done}/${total} ${rate.toFixed(1)} img/s ETA ${eta.toFixed(0)} s`,
  );
}

export async function embedCommand(argv: string[]): Promise<number> {
  const f = parseFlags(argv, ['model', 'images', 'out', 'device', 'batch'], USAGE);
  if (!f.model || !f.images || !f.out) throw new Error(USAGE);
  const isDir = fs.statSync(f.images).isDirectory();
  const base = isDir ? f.images : path.dirname(f.images);
  const files = isDir
    ? listImages(f.images)
    : fs
        .readFileSync(f.images, 'utf8')
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)
        .map((l) => path.resolve(base, l))
        .sort();
  const model = await MomeModel.load(f.model, { device: (f.device ?? 'auto') as 'auto' });
  const started = Date.now();
  try {
    const E = model.config.embedDim;
    const enc = await model.encodeImages(files, {
      batchSize: f.batch ? Number(f.batch) : 32,
      onProgress: (d, t) => bar(d, t, started),
    });
    process.stderr.write('\n');
    const items = files.flatMap((file, i) =>
      enc.errors.has(i)
        ? []
        : [
            {
              file: path.relative(base, file),
              embedding: Array.from(enc.embeddings.subarray(i * E, (i + 1) * E), (v) => +v.toFixed(7)),
            },
          ],
    );
    const errors = [...enc.errors].map(([i, error]) => ({ file: path.relative(base, files[i]), error }));
    fs.writeFileSync(
      f.out,
      JSON.stringify({ model: model.config.name, provider: model.provider.provider, items, errors }),
    );
    console.error(
      `${items.length} embeddings, ${errors.length} unreadable, ${((Date.now() - started) / 1000).toFixed(1)} s on ${model.provider.provider}`,
    );
    return 0;
  } finally {
    await model.release();
  }
}
