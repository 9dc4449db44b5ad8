import { describe, expect, it } from 'vitest';
import { fieldSchema } from '../../electron/labels/fields';
import { REVIEW_KEYS, decisionEdits } from '../../electron/api/review-decisions';

describe('review decisions', () => {
  const caption = { datasetId: 1, kind: 'caption' as const, id: '42', partner: '7' };
  const nlvr2 = { datasetId: 1, kind: 'nlvr2' as const, id: 'dev-1-0-0' };

  it('one key per decision', () => {
    expect(Object.keys(REVIEW_KEYS).sort()).toEqual(['a', 'f', 'h', 'k', 'm', 's']);
  });

  it('turns decisions into valid label edits', () => {
    const all = [
      ...decisionEdits(caption, 'keep'),
      ...decisionEdits(caption, 'ambiguous'),
      ...decisionEdits(caption, 'hard_negative'),
      ...decisionEdits({ ...caption, kind: 'image', id: '7', partner: '42' }, 'also_match'),
      ...decisionEdits(caption, 'fix', { raw: 'a dog', image: '9' }),
      ...decisionEdits(nlvr2, 'fix', { label: false }),
    ];
    for (const e of all) expect(fieldSchema(e.kind, e.field)?.safeParse(e.value).success).toBe(true);
    expect(all.find((e) => e.kind === 'pair' && e.value === 'hard_negative')?.key).toBe('42|7');
    expect(all.find((e) => e.kind === 'pair' && e.value === 'also_match')?.key).toBe('42|7');
    expect(decisionEdits(caption, 'skip')).toEqual([]);
  });

  it('refuses decisions that do not apply', () => {
    expect(() => decisionEdits(nlvr2, 'hard_negative')).toThrow(/NLVR2/);
    expect(() => decisionEdits({ ...caption, partner: undefined }, 'also_match')).toThrow(/partner/);
    expect(() => decisionEdits(caption, 'fix', {})).toThrow(/needs a change/);
  });
});
