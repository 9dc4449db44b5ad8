// Where the app finds its files in each way it runs: from source under tsx, as Forge's bundle in a checkout,
// and packaged (resources beside app.asar, or beside an unpacked app folder).
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { layoutFor, runtimeLayout, workerSource } from '../../model-runtime/src/runtime-paths';
import { tempDir } from '../integration/helpers/temp';

const url = (...p: string[]) => pathToFileURL(path.join(...p)).href;

describe('the runtime layout', () => {
  it('is the checkout itself when this code runs from source', () => {
    const layout = runtimeLayout();
    expect(layout.mode).toBe('source');
    expect(fs.existsSync(path.join(layout.resourcesDir, 'model-runtime', 'python', 'mome', '__init__.py'))).toBe(true);
    expect(fs.existsSync(path.join(layout.resourcesDir, 'assets'))).toBe(true);
    // source mode starts workers through tsx, from their TypeScript files
    const src = workerSource('preprocess-worker');
    expect('evalSource' in src && src.evalSource).toMatch(/preprocess-worker\.ts/);
  });

  it('is the checkout around .vite/build for the Forge development build', () => {
    const checkout = tempDir();
    fs.mkdirSync(path.join(checkout, 'model-runtime', 'python', 'mome'), { recursive: true });
    const layout = layoutFor(url(checkout, '.vite', 'build', 'main.cjs'));
    expect(layout).toMatchObject({ mode: 'build', appRoot: checkout, resourcesDir: checkout });
  });

  it('is the resources folder around app.asar when packaged (what Electron sets as resourcesPath)', () => {
    const resources = path.join(tempDir(), 'MoME Studio', 'resources');
    const layout = layoutFor(url(resources, 'app.asar', '.vite', 'build', 'main.cjs'));
    expect(layout).toMatchObject({
      mode: 'packaged',
      appRoot: path.join(resources, 'app.asar'),
      resourcesDir: resources,
    });
  });

  it('is the folder holding the app when a packaged layout runs under plain Node', () => {
    const resources = path.join(tempDir(), 'resources');
    const layout = layoutFor(url(resources, 'app', '.vite', 'build', 'serve.cjs'));
    expect(layout).toMatchObject({ mode: 'packaged', resourcesDir: resources });
  });
});
