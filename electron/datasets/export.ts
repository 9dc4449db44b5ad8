// Exports a dataset with its corrections applied, in its original format, to a NEW folder (the originals on
// disk are never touched): dataset_coco.json / dataset_flickr30k.json or NLVR2 json-lines, a README of what
// changed, and labels.jsonl with every correction and hard negative and its provenance. Image folders are
// linked, not copied. Written to a temp folder and renamed at the end.
import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../api/contract';
import type { DatasetKind } from '../api/schemas';
import type { Db } from '../store/db';
import type { LabelHistory } from '../labels/history';
import { scanHistory, valuesInForce, type Marks } from '../labels/adjudication';
import { streamJsonArray } from './json-array-stream';
import { cocoImageDir, FLICKR_IMAGE_DIRS } from './karpathy';
import { realPathInside } from '../media/roots';
import { largestSentid } from './items';
import { readyDataset } from './repository';

export interface ExportSummary {
  datasetId: number;
  out: string;
  files: string[];
  changes: Record<string, number>;
  hardNegatives: number;
  extraPositives: number;
  /** Fields whose pending correction (awaiting review) was left out: the export holds what is in force. */
  pendingLeftOut: number;
}

/** Karpathy's tokens: lower-cased words, punctuation dropped. */
export function karpathyTokens(raw: string): string[] {
  return raw
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s']/gu, ' ')
    .split(/\s+/)
    .filter(Boolean);
}

type Current = Map<string, Map<string, unknown>>; // "kind\tkey" -> field -> value

/** The labels in force (at `at`, else now): pending corrections are left out, and counted. */
function currentLabels(db: Db, datasetId: number, at?: Marks): { labels: Current; pendingLeftOut: number } {
  const out: Current = new Map();
  const { values, pendingLeftOut } = valuesInForce(db, datasetId, at);
  for (const v of values) {
    const k = `${v.kind}\t${v.key}`;
    if (!out.has(k)) out.set(k, new Map());
    out.get(k)!.set(v.field, v.value);
  }
  return { labels: out, pendingLeftOut };
}

/**
 * The export's images are the originals, linked: the image folders, or the image files beside the json. A
 * folder whose real path leaves the dataset folder (a symlink out of it) is not linked, by the rule the media
 * route and the evaluation apply (electron/media/roots.ts); its name is returned, for the README.
 */
async function linkImageFolders(root: string, tmp: string, kind: DatasetKind): Promise<string[]> {
  const candidates =
    kind === 'coco'
      ? ['train2014', 'val2014']
      : kind === 'flickr30k'
        ? FLICKR_IMAGE_DIRS
        : ['dev', 'test1', 'images', 'train'];
  let linked = 0;
  const refused: string[] = [];
  for (const dir of candidates) {
    const rel = kind === 'coco' ? cocoImageDir(root, dir) : dir;
    const src = path.join(root, rel);
    if (fs.existsSync(src)) {
      try {
        await realPathInside(root, rel);
      } catch {
        refused.push(rel);
        continue;
      }
      fs.symlinkSync(src, path.join(tmp, dir), 'dir');
      linked++;
    }
  }
  // images beside the original json: its folder becomes the export's image folder (a folder link, so that each
  // image is a plain file under it and not a link leaving the export, which the importer would flag)
  if (kind === 'flickr30k' && linked === 0 && refused.length === 0)
    fs.symlinkSync(root, path.join(tmp, FLICKR_IMAGE_DIRS[0]), 'dir');
  return refused;
}

/** An annotation file of the dataset, read only when its real path is inside the dataset folder. */
async function annotationPath(root: string, rel: string): Promise<string> {
  try {
    return await realPathInside(root, rel);
  } catch (e) {
    if (e instanceof ApiError && e.code === 'forbidden')
      throw new ApiError(
        'forbidden',
        `The annotation file ${rel} is a link leading outside the dataset folder ${root}.`,
      );
    throw e;
  }
}

export async function exportDataset(
  db: Db,
  history: LabelHistory,
  datasetId: number,
  out: string,
  /** A point of the history (a label snapshot's marks) to export the labels in force at; now without. */
  at?: Marks,
): Promise<ExportSummary> {
  const ds = readyDataset(db, datasetId);
  const target = path.resolve(out);
  if (fs.existsSync(target) && fs.readdirSync(target).length > 0) {
    throw new ApiError('conflict', `${target} is not empty; export into a new folder.`);
  }
  if (
    path.resolve(target).startsWith(path.resolve(ds.root) + path.sep) ||
    path.resolve(target) === path.resolve(ds.root)
  ) {
    throw new ApiError('invalid_arguments', 'Export into a folder outside the original dataset folder.');
  }
  const { labels, pendingLeftOut } = currentLabels(db, datasetId, at);
  const get = (kind: string, key: string, field: string) => labels.get(`${kind}\t${key}`)?.get(field);
  const changes: Record<string, number> = {};
  const count = (what: string) => (changes[what] = (changes[what] ?? 0) + 1);

  fs.mkdirSync(path.dirname(target), { recursive: true });
  const tmp = fs.mkdtempSync(path.join(path.dirname(target), `.${path.basename(target)}.partial-`));
  try {
    const files: string[] = [];
    if (ds.kind === 'nlvr2') {
      for (const rel of ds.annotationFiles) {
        const lines = fs.readFileSync(await annotationPath(ds.root, rel), 'utf8').split('\n');
        const outLines = lines.map((line) => {
          if (!line.trim()) return line;
          const rec = JSON.parse(line) as Record<string, unknown>;
          const id = String(rec.identifier);
          const label = get('nlvr2', id, 'label');
          if (label !== undefined && label !== null && label !== (rec.label === 'True')) {
            rec.label = label ? 'True' : 'False';
            count('nlvr2 labels flipped');
          }
          const sentence = get('nlvr2', id, 'sentence');
          if (typeof sentence === 'string' && sentence !== rec.sentence) {
            rec.sentence = sentence;
            count('nlvr2 sentences edited');
          }
          return JSON.stringify(rec);
        });
        // at the export's top level (the original may be in data/): the export is a dataset folder of its own
        fs.writeFileSync(path.join(tmp, path.basename(rel)), outLines.join('\n'));
        files.push(path.basename(rel));
      }
    } else {
      const rel = ds.kind === 'coco' ? 'dataset_coco.json' : 'dataset_flickr30k.json';
      // pass 1: which captions move where, and the captions added by the user
      type Sentence = { tokens: string[]; raw: string; imgid: number; sentid: number };
      const moved = new Map<string, Sentence[]>(); // target imgid -> sentences arriving
      let maxSentid = largestSentid(db, datasetId);
      for (const [k, fields] of labels) {
        const [kind, key] = k.split('\t');
        if (kind !== 'caption' || !key.startsWith('new:') || fields.get('removed') === true) continue;
        const raw = fields.get('raw');
        const image = fields.get('image');
        if (typeof raw !== 'string' || typeof image !== 'string') continue;
        const s: Sentence = { tokens: karpathyTokens(raw), raw, imgid: Number(image), sentid: ++maxSentid };
        moved.set(image, [...(moved.get(image) ?? []), s]);
        count('captions added');
      }
      const fd = fs.openSync(path.join(tmp, rel), 'w');
      const src = await annotationPath(ds.root, ds.annotationFiles[0]); // maybe in karpathy/
      const kept: { index: number; img: Record<string, unknown> }[] = [];
      for await (const el of streamJsonArray(src, 'images')) {
        const img = el.value as Record<string, unknown> & { imgid: number; sentences: Sentence[] };
        const sentences: Sentence[] = [];
        for (const s of img.sentences) {
          const key = String(s.sentid);
          if (get('caption', key, 'removed') === true) {
            count('captions removed');
            continue;
          }
          const raw = get('caption', key, 'raw');
          const next = { ...s };
          if (typeof raw === 'string' && raw !== s.raw) {
            next.raw = raw;
            next.tokens = karpathyTokens(raw);
            count('captions edited');
          }
          const image = get('caption', key, 'image');
          if (typeof image === 'string' && image !== String(img.imgid)) {
            next.imgid = Number(image);
            moved.set(image, [...(moved.get(image) ?? []), next]);
            count('captions moved');
            continue;
          }
          sentences.push(next);
        }
        kept.push({ index: el.index, img: { ...img, sentences } });
      }
      // pass 2: write, adding arriving sentences to their new image
      fs.writeSync(fd, '{"images": [');
      kept.forEach(({ img }, i) => {
        const arriving = moved.get(String(img.imgid)) ?? [];
        const sentences = [
          ...(img.sentences as Sentence[]),
          ...arriving.map((s) => ({ ...s, imgid: img.imgid as number })),
        ];
        fs.writeSync(
          fd,
          `${i ? ', ' : ''}${JSON.stringify({ ...img, sentences, sentids: sentences.map((s) => s.sentid) })}`,
        );
      });
      fs.writeSync(fd, `], "dataset": "${ds.kind}"}`);
      fs.closeSync(fd);
      files.push(rel);
    }
    const notLinked = await linkImageFolders(ds.root, tmp, ds.kind);

    // every label in force with its provenance, hard negatives and extra positives included; corrections
    // awaiting review (or never accepted) are left out, as in the annotations
    const scan = scanHistory(db, datasetId, at);
    const inForce = new Set(
      scan.events
        .filter((e) => e.review === null || scan.decisions.get(e.id)?.at(-1)?.decision === 'accept')
        .map((e) => e.id),
    );
    const events = history
      .list({ datasetId, offset: 0, limit: 1_000_000 })
      .items.reverse()
      .filter((e) => inForce.has(e.id));
    fs.writeFileSync(
      path.join(tmp, 'labels.jsonl'),
      events.map((e) => JSON.stringify(e)).join('\n') + (events.length ? '\n' : ''),
    );
    files.push('labels.jsonl');
    let hardNegatives = 0;
    let extraPositives = 0;
    const judged: Record<string, number> = {}; // flags and notes: kept in labels.jsonl, not in the format
    for (const [k, fields] of labels) {
      const kind = k.split('\t')[0];
      const flag = fields.get('flag');
      if (typeof flag === 'string') judged[`${kind}s flagged ${flag}`] = (judged[`${kind}s flagged ${flag}`] ?? 0) + 1;
      if (typeof fields.get('note') === 'string')
        judged[`${kind}s with a note`] = (judged[`${kind}s with a note`] ?? 0) + 1;
      if (kind !== 'pair') continue;
      if (fields.get('relation') === 'hard_negative') hardNegatives++;
      if (fields.get('relation') === 'also_match') extraPositives++;
    }
    const readme = [
      `# ${ds.name} — corrected export`,
      '',
      `Exported by MoME Studio on ${new Date().toISOString()} from ${ds.root} (dataset ${datasetId}, ${ds.kind}).`,
      'The original files were not modified. Image folders are links to the originals.',
      ...(notLinked.length ? [`Not linked, as they lead outside the dataset folder: ${notLinked.join(', ')}.`] : []),
      '',
      '## Changes applied to the annotations',
      ...(Object.keys(changes).length ? Object.entries(changes).map(([k, v]) => `- ${k}: ${v}`) : ['- none']),
      '',
      '## Judgements recorded in labels.jsonl (not part of the annotation format)',
      `- hard negatives (caption, image) pairs: ${hardNegatives}`,
      `- extra positives (also a match): ${extraPositives}`,
      ...Object.entries(judged).map(([k, v]) => `- ${k}: ${v}`),
      `- label events in total (with author, time, view, evaluation run): ${events.length}`,
      '',
      '## Review',
      `- corrections awaiting review, left out (neither in the annotations nor in labels.jsonl): ${pendingLeftOut}`,
      '',
    ].join('\n');
    fs.writeFileSync(path.join(tmp, 'README.md'), readme);
    files.push('README.md');
    if (fs.existsSync(target)) fs.rmdirSync(target);
    fs.renameSync(tmp, target);
    return { datasetId, out: target, files, changes, hardNegatives, extraPositives, pendingLeftOut };
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}
