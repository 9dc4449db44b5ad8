import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cocoImages, writeCoco } from './helpers/datasets';
import { runMome } from './helpers/cli';
import { tempDir } from './helpers/temp';

const repo = path.resolve(__dirname, '..', '..');
const mome = (args: string[], input?: string) => runMome(tempDir(), args, input);

describe('mome CLI', () => {
  it('import prints a JSON summary with counts per split and missing files', async () => {
    const root = tempDir();
    const images = cocoImages(20);
    await writeCoco(root, images);
    fs.unlinkSync(path.join(root, images[0].filepath!, images[0].filename));
    const home = tempDir();
    const r = mome(['import', root, '--home', home]);
    expect(r.status, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ kind: 'coco', images: 20, captions: 100, missingImages: 1 });
    expect(s.splits.test).toEqual({ images: 2, captions: 10 });
    expect(s.datasetId).toBe(1);
    expect(fs.existsSync(path.join(home, 'mome.sqlite'))).toBe(true);
  });

  it('import fails with the file, line and field, and a non-zero exit', () => {
    const root = tempDir();
    fs.writeFileSync(
      path.join(root, 'dev.json'),
      '{"identifier": "dev-1-0-0", "sentence": "ok", "label": "True"}\n{"identifier": "dev-1-1-0", "label": "True"}\n',
    );
    const r = mome(['import', root, '--kind', 'nlvr2']);
    expect(r.status).toBe(1);
    const { error } = JSON.parse(r.stdout);
    expect(error).toMatchObject({ file: 'dev.json', line: 2, field: 'sentence' });
  });

  it('tokenize writes one JSON id array per input line', () => {
    const vocab = path.join(repo, '..', 'shared', 'fixtures', 'bert-base-uncased', 'vocab.txt');
    const r = mome(['tokenize', '--vocab', vocab, '--max-len', '5'], 'Hello, my dog is cute\n\n');
    expect(r.status, r.stderr).toBe(0);
    expect(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([
      [101, 7592, 1010, 2026, 102],
      [101, 102],
    ]);
  });

  it('an unknown command prints the usage and exits 2', () => {
    const r = mome(['frobnicate']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown command "frobnicate"/);
  });
});
