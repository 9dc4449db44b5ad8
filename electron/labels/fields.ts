// What can be labeled: each target kind has its fields, each field its value schema.
import { z } from 'zod';

import { LabelTargetKind } from '../api/schemas';

export const TargetKind = LabelTargetKind;
export type TargetKind = LabelTargetKind;

const flag = z.enum(['ambiguous', 'bad']).nullable();
const note = z.string().max(5000).nullable();

export const FIELDS = {
  // key: the caption's sentid (or "new:<id>" for an added caption)
  caption: { raw: z.string().min(1).max(2000), image: z.string().min(1).max(100), flag, note, removed: z.boolean() },
  // key: the image's imgid as in the annotation file
  image: { flag, note },
  // key: the NLVR2 identifier
  nlvr2: { label: z.boolean(), sentence: z.string().min(1).max(2000), flag, note },
  // key: "<sentid>|<imgid>": a retrieval pair judged by the user
  pair: { relation: z.enum(['hard_negative', 'also_match']).nullable(), note },
} as const satisfies Record<TargetKind, Record<string, z.ZodTypeAny>>;

export function fieldSchema(kind: TargetKind, field: string): z.ZodTypeAny | null {
  const fields = FIELDS[kind] as Record<string, z.ZodTypeAny>;
  return Object.prototype.hasOwnProperty.call(fields, field) ? fields[field] : null;
}
