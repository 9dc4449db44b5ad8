// Thumbnails: made with sharp on first request, cached on disk under the home's thumbnail folder, served from
// the cache afterwards, and made again when the image file changes.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { createBackend } from '../../electron/backend/index';
import { tempDir } from './helpers/temp';

const b = createBackend({ home: tempDir(), mode: 'browser' });
afterAll(() => b.close());

const png = (w: number, h: number, color: string) =>
  sharp({ create: { width: w, height: h, channels: 3, background: color } })
    .png()
    .toBuffer();
const cached = (): string[] =>
  fs.readdirSync(b.home.thumbnails, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.jpg'));

describe('thumbnails', () => {
  it('are cached on disk, served from the cache, and remade when the image changes', async () => {
    const root = tempDir();
    const file = path.join(root, 'a.png');
    fs.writeFileSync(file, await png(640, 480, '#c03030'));
    b.roots.add(root);

    const first = await b.media(file, 64);
    expect(first.contentType).toBe('image/jpeg');
    expect(await sharp(first.body).metadata()).toMatchObject({ width: 64, height: 48 });
    const [entry] = cached();
    expect(cached()).toHaveLength(1);

    // the second request is answered from the cache file, not by decoding the image again
    const marker = await sharp({ create: { width: 3, height: 3, channels: 3, background: '#000' } })
      .jpeg()
      .toBuffer();
    fs.writeFileSync(path.join(b.home.thumbnails, entry), marker);
    expect((await b.media(file, 64)).body.equals(marker)).toBe(true);

    // another size is another cache entry; a changed image is a new key
    await b.media(file, 32);
    expect(cached()).toHaveLength(2);
    fs.writeFileSync(file, await png(300, 600, '#3030c0'));
    const remade = await b.media(file, 64);
    expect(await sharp(remade.body).metadata()).toMatchObject({ width: 32, height: 64 });
    expect(cached()).toHaveLength(3);
  });

  it('of an image over the pixel limit are refused with a sentence, without decoding it', async () => {
    const root = tempDir();
    const file = path.join(root, 'huge.png');
    fs.writeFileSync(file, await png(16000, 16000, '#3366cc'));
    b.roots.add(root);
    await expect(b.media(file, 64)).rejects.toThrow(/Cannot make a thumbnail of .*huge\.png: .*pixel limit/);
  });
});
