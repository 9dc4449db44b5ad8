// Baseline for the import benchmark: read the whole file and JSON.parse it in one go (what the importer
// avoids doing), in its own process for a comparable peak RSS.
import fs from 'node:fs';

const t0 = performance.now();
const data = JSON.parse(fs.readFileSync(process.argv[2], 'utf8')) as { images: unknown[] };
const seconds = (performance.now() - t0) / 1000;
process.stdout.write(
  JSON.stringify({ seconds, peakRssMB: process.resourceUsage().maxRSS / 1024, images: data.images.length }),
);
