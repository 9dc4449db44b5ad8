// Child process for the crash test: makes label edits through the API and prints each acknowledged event id.
import { createBackend } from '../../../electron/backend/index';

const [home, datasetId, count] = process.argv.slice(2);
const backend = createBackend({ home, mode: 'browser' });
for (let i = 0; i < Number(count); i++) {
  const [e] = (await backend.call('editLabels', {
    edits: [{ datasetId: Number(datasetId), kind: 'caption', key: String(i % 10), field: 'note', value: `note ${i}` }],
    author: 'crash-test',
  })) as { id: number }[];
  process.stdout.write(`ACK ${e.id}\n`);
}
process.stdout.write('DONE\n');
setInterval(() => undefined, 1000); // stay alive until killed
