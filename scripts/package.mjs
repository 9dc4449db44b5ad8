// `npm run package` (Electron Forge: the packaged app in out/) and `npm run make` (then electron-builder's
// installers from it, electron-builder.yml). Both need the Electron binary that npm downloads at install time;
// where it could not be downloaded, say so in one line instead of failing inside the packager.
import fs from 'node:fs';
import path from 'node:path';
import { root, run } from './lib.mjs';
import { electronBinary } from './start.mjs';

const make = process.argv.includes('--make');
if (!electronBinary()) {
  console.error(
    `The Electron binary is not installed (npm could not download it): \`npm run ${make ? 'make' : 'package'}\` needs it — run \`npm rebuild electron\` with internet, then try again.`,
  );
  process.exit(1);
}
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
let status = run(bin('electron-forge'), ['package']);
if (status === 0 && make) {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const packaged = path.join(root, 'out', `${pkg.productName}-${process.platform}-${process.arch}`);
  status = run(bin('electron-builder'), ['--prepackaged', packaged, '--config', 'electron-builder.yml']);
}
process.exit(status);
