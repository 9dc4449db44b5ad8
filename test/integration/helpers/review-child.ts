// Child process for the review crash test: a review session's decisions, one after another, each turned into
// label edits by the review queue's decision rules and written through the API; prints each acknowledged
// decision with the event ids it wrote ("ACK <decision> <id> <id>…").
import { createBackend } from '../../../electron/backend/index';
import { decisionEdits, type ReviewDecision, type ReviewFix } from '../../../electron/api/review-decisions';

const [home, datasetId, count] = process.argv.slice(2);
const backend = createBackend({ home, mode: 'browser' });
const session: [ReviewDecision, ReviewFix?][] = [
  ['keep'],
  ['fix', { raw: 'A corrected caption.' }],
  ['ambiguous'],
  ['also_match'],
  ['skip'],
  ['hard_negative'],
  ['fix', { raw: 'Moved and corrected.', image: '3' }], // two edits, one decision
];
for (let i = 0; i < Number(count); i++) {
  const [decision, fix] = session[i % session.length];
  const sentid = i % 50; // 10 images of 5 captions
  const item = {
    datasetId: Number(datasetId),
    kind: 'caption' as const,
    id: String(sentid),
    partner: String((i + 1) % 10),
  };
  const edits = decisionEdits(item, decision, fix && fix.raw ? { ...fix, raw: `${fix.raw} (${i})` } : fix);
  if (edits.length === 0) continue; // a skip writes nothing
  const events = (await backend.call('editLabels', { edits, author: 'reviewer', view: 'review' })) as { id: number }[];
  process.stdout.write(`ACK ${decision} ${events.map((e) => e.id).join(' ')}\n`);
}
process.stdout.write('DONE\n');
setInterval(() => undefined, 1000); // stay alive until killed
