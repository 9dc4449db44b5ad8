// Text → image search over a dataset split with a model's dual encoder. The split's image embeddings are
// the evaluation's own, read from its cache (per model fingerprint, dataset file and item); a split not yet
// encoded is encoded once by the evaluation's embedder (which fills the same cache). A query that is one of
// the split's captions gets the evaluation's embedding from the text cache, and its scores come from the
// evaluation's scoring graph, so the ranking and the scores are the evaluation's for the same model and split.
import fs from 'node:fs';
import path from 'node:path';
import { realPathInside } from '../media/roots';
import * as ort from 'onnxruntime-node';
import { ApiError } from '../api/contract';
import type { Db } from '../store/db';
import { datasetInfo } from '../datasets/repository';
import { lastLabelEventId } from '../labels/history';
import type { JobContext } from '../jobs/service';
import type { CacheKeys } from '../models/model-folder';
import { embedSplit, embeddingKeys, type SplitImage } from '../eval/embed';
import { splitCaptions } from '../eval/retrieval-eval';
import { ALL_SPLITS, imageSplits, splitImages } from '../datasets/items';
import {
  EmbeddingCache,
  textKey,
  MomeModel,
  ModelDirectoryError,
  readModelConfig,
  imagesTensor,
  itmOrder,
  itmProbabilities,
  queryLength,
  rankImages,
} from '../../model-runtime/src/index';

/** A split's images with their embeddings, held in memory between queries. */
export interface SearchIndex {
  /** The model's embedding-cache keys (cacheKeys in models/): texts by its fingerprint, images by its image tower. */
  keys: CacheKeys;
  datasetId: number;
  split: string;
  root: string;
  /** The dataset's kind (coco, flickr30k): how its annotation file writes image paths. */
  kind: string;
  images: SplitImage[];
  dim: number;
  embeddings: Float32Array;
  tensor: ort.Tensor;
  /** Images that could not be read (their rows are zeros and they never appear in results). */
  unreadable: Set<number>;
  /** The split's captions by text, as of the label history's newest event (see captionOfQuery). */
  captions?: { stamp: number; byText: Map<string, { sentid: number; imageIndex: number; raw: string }> };
}

export interface SearchHit {
  imageId: number;
  imgid: string;
  /** The image's path as the annotation file writes it (COCO: val2014/COCO_val2014_….jpg; Flickr30K: the name). */
  file: string;
  /** The image on disk, for the media route. */
  path: string;
  score: number;
  /** The dual encoder's score and 0-based rank (equal to score and position without a re-rank). */
  itcScore: number;
  itcRank: number;
  /** The image of the query, when the query is one of the split's captions. */
  isTruth: boolean;
}

export interface TextSearchResult {
  query: { text: string; tokens: number; maxTokens: number; truncated: boolean };
  caption: { sentid: number; imgid: string } | null;
  rerankK: number;
  results: SearchHit[];
}

/** The split's images, or a message that names the splits there are. */
export function searchableImages(db: Db, datasetId: number, split: string): SplitImage[] {
  const ds = datasetInfo(db, datasetId);
  if (ds.kind === 'nlvr2')
    throw new ApiError(
      'invalid_arguments',
      `Dataset ${datasetId} (${ds.name}) is an NLVR2 dataset: search ranks the images of a COCO or Flickr30K dataset.`,
    );
  const images = splitImages(db, datasetId, split);
  if (images.length === 0) {
    const splits = imageSplits(db, datasetId);
    throw new ApiError(
      'invalid_arguments',
      `Dataset ${datasetId} (${ds.name}) has no split "${split}"; its splits: ${splits.join(', ') || 'none'} (or ${ALL_SPLITS} for all).`,
    );
  }
  return images;
}

/** Loads a model folder for search, with messages that say what the search needs. */
export async function loadSearchModel(dir: string, device: 'auto' | 'cpu' | 'cuda', rerankK = 0): Promise<MomeModel> {
  try {
    readModelConfig(dir); // names a missing text or image graph before anything loads
  } catch (e) {
    if (e instanceof ModelDirectoryError)
      throw new ApiError('invalid_arguments', `This model cannot search: ${e.message}`);
    throw e;
  }
  const model = await MomeModel.load(dir, { device });
  if (rerankK > 0 && !model.hasFusion)
    throw new ApiError(
      'invalid_arguments',
      `The model ${model.config.name} has no fusion graph (fusion.onnx) to re-rank with ITM; search without re-rank.`,
    );
  return model;
}

/**
 * The index from the cache alone, or the number of images still to encode. Reads nothing but the cache and
 * the files' sizes and times (the cache keys), so a split the evaluation has seen opens without the model.
 */
export async function indexFromCache(
  db: Db,
  datasetId: number,
  split: string,
  keys: CacheKeys,
  dim: number,
  cacheDir: string,
): Promise<{ index: SearchIndex | null; toEncode: number; images: number }> {
  const images = searchableImages(db, datasetId, split);
  const { root, kind } = datasetInfo(db, datasetId);
  const cache = EmbeddingCache.open(cacheDir, keys.images, 'images', dim);
  const { imageKeys } = await embeddingKeys(root, images, []);
  const embeddings = new Float32Array(images.length * dim);
  const unreadable = new Set<number>();
  let toEncode = 0;
  imageKeys.forEach((key, i) => {
    if (key.startsWith('missing:')) return void unreadable.add(i);
    const hit = cache.get(key);
    if (hit) embeddings.set(hit, i * dim);
    else toEncode++;
  });
  if (toEncode > 0) return { index: null, toEncode, images: images.length };
  return {
    index: makeIndex({ keys, datasetId, split, root, kind, images, dim, embeddings, unreadable }),
    toEncode,
    images: images.length,
  };
}

/** Encodes the images the cache lacks (the evaluation's embedder, into its cache) and builds the index. */
export async function buildIndex(
  db: Db,
  model: MomeModel,
  keys: CacheKeys,
  datasetId: number,
  split: string,
  cacheDir: string,
  ctx: JobContext,
): Promise<SearchIndex> {
  const images = searchableImages(db, datasetId, split);
  const { root, kind } = datasetInfo(db, datasetId);
  const emb = await embedSplit(model, keys, root, images, [], cacheDir, ctx, [0.02, 0.98]);
  const dim = model.config.embedDim;
  const unreadable = new Set(emb.unreadable.keys());
  return makeIndex({ keys, datasetId, split, root, kind, images, dim, embeddings: emb.images, unreadable });
}

export function makeIndex(i: Omit<SearchIndex, 'tensor' | 'captions'>): SearchIndex {
  return { ...i, tensor: imagesTensor(i.embeddings, i.dim) };
}

/**
 * The caption the query is, among the split's captions as corrected (its text, trimmed, exactly). The map is
 * kept with the index and read again once the dataset's label history has grown (a caption edited or moved).
 */
export function captionOfQuery(
  db: Db,
  index: SearchIndex,
  text: string,
): { sentid: number; imageIndex: number; raw: string } | null {
  const stamp = lastLabelEventId(db, index.datasetId);
  if (!index.captions || index.captions.stamp !== stamp) {
    const position = new Map(index.images.map((im, i) => [im.id, i]));
    const byText = new Map<string, { sentid: number; imageIndex: number; raw: string }>();
    for (const c of splitCaptions(db, index.datasetId, index.split)) {
      const key = c.raw.trim();
      if (!byText.has(key)) byText.set(key, { sentid: c.sentid, imageIndex: position.get(c.image_id)!, raw: c.raw });
    }
    index.captions = { stamp, byText };
  }
  return index.captions.byText.get(text.trim()) ?? null;
}

/**
 * The query's embedding. A caption of the dataset: the evaluation's cached vector, or encoded and cached for
 * the evaluation to read (so both always score the same vector). Free text is encoded and not kept.
 */
export async function embedQuery(
  model: MomeModel,
  fingerprint: string,
  cacheDir: string,
  text: string,
  caption: boolean,
) {
  if (!caption) return model.encodeTexts([text]);
  const texts = textCache(cacheDir, fingerprint, model.config.embedDim);
  const key = textKey(text);
  const hit = texts.get(key);
  if (hit) return hit;
  const v = await model.encodeTexts([text]);
  texts.put([[key, v]]);
  noteWritten(cacheDir, fingerprint, model.config.embedDim);
  return v;
}

/**
 * The evaluation's text cache of a model fingerprint, kept open while its file keeps its size: an evaluation that
 * appended to it since makes it read again (its appends start where the file ended when it was read).
 */
const textCaches = new Map<string, { cache: EmbeddingCache; size: number }>();
function textCache(cacheDir: string, fingerprint: string, dim: number): EmbeddingCache {
  const key = `${cacheDir}|${fingerprint}|${dim}`;
  const sizeOf = (f: string) => (fs.existsSync(f) ? fs.statSync(f).size : 0);
  let c = textCaches.get(key);
  if (!c || sizeOf(c.cache.file) !== c.size) {
    const cache = EmbeddingCache.open(cacheDir, fingerprint, 'texts', dim);
    c = { cache, size: sizeOf(cache.file) };
    textCaches.set(key, c);
  }
  return c.cache;
}

function noteWritten(cacheDir: string, fingerprint: string, dim: number) {
  const c = textCaches.get(`${cacheDir}|${fingerprint}|${dim}`);
  if (c) c.size = fs.statSync(c.cache.file).size;
}

/** Where the annotation file puts an image: COCO's filepath/filename, Flickr30K's filename. */
function annotationFile(file: string, kind: string): string {
  const parts = file.split(/[\\/]/);
  return kind === 'coco' ? parts.slice(-2).join('/') : parts[parts.length - 1];
}

/** Searches one text over an index: the top k (re-ranked by ITM when rerankK > 0). */
export async function searchText(
  db: Db,
  model: MomeModel,
  index: SearchIndex,
  cacheDir: string,
  o: { text: string; k: number; rerankK: number; signal?: AbortSignal },
): Promise<TextSearchResult> {
  const text = o.text.trim();
  if (!text) throw new ApiError('invalid_arguments', 'The query is empty: type a sentence to search for.');
  const length = queryLength(model.tokenizer, text, model.config.maxTextLen);
  const caption = captionOfQuery(db, index, text);
  const asked = caption ? caption.raw : text; // a caption exactly as the evaluation encoded it
  const q = await embedQuery(model, index.keys.texts, cacheDir, asked, caption !== null);
  // unreadable images score 0 (zero rows); ask for enough to leave them out
  const want = Math.max(o.k, o.rerankK);
  const ranked = await rankImages(q, index.tensor, index.dim, want + index.unreadable.size);
  let order = [...ranked.index.keys()]
    .filter((j) => ranked.index[j] < index.images.length && !index.unreadable.has(ranked.index[j]))
    .slice(0, want);
  let scoreOf = (j: number) => ranked.score[j];
  if (o.rerankK > 0) {
    const top = order.slice(0, o.rerankK);
    // read through the dataset-folder rule the evaluation applies (no link leading outside the folder)
    const files = await Promise.all(top.map((j) => realPathInside(index.root, index.images[ranked.index[j]].file)));
    const probs = await itmProbabilities(model, asked, files, 32, o.signal);
    const p = new Map(top.map((j, n) => [j, probs[n]]));
    order = [...itmOrder(probs).map((n) => top[n]), ...order.slice(o.rerankK)];
    scoreOf = (j) => (p.has(j) ? Math.fround(p.get(j)!) : ranked.score[j]);
  }
  const results = order.slice(0, o.k).map((j): SearchHit => {
    const i = ranked.index[j];
    const im = index.images[i];
    return {
      imageId: im.id,
      imgid: im.source_id,
      file: annotationFile(im.file, index.kind),
      path: path.join(index.root, im.file),
      score: scoreOf(j),
      itcScore: ranked.score[j],
      itcRank: j,
      isTruth: caption !== null && caption.imageIndex === i,
    };
  });
  return {
    query: { text, ...length },
    caption: caption ? { sentid: caption.sentid, imgid: index.images[caption.imageIndex].source_id } : null,
    rerankK: o.rerankK,
    results,
  };
}

export interface ImageSearchResult {
  queryImage: { file: string; imgid: string | null };
  results: SearchHit[];
}

/**
 * Image → image: the images most like a query image by the dual encoder's image embeddings. A dataset image of
 * the split uses its row of the index; any other file is encoded (an unreadable or over-large one is refused
 * with the reason). The query image itself is left out of its results.
 */
export async function searchImage(
  model: MomeModel,
  index: SearchIndex,
  o: { file: string; k: number },
): Promise<ImageSearchResult> {
  const { at, q } = await queryImage(model, index, o.file);
  const ranked = await rankImages(q, index.tensor, index.dim, o.k + 1 + index.unreadable.size);
  const results = [...ranked.index.keys()]
    .filter((j) => {
      const i = ranked.index[j];
      return i < index.images.length && i !== at && !index.unreadable.has(i);
    })
    .slice(0, o.k)
    .map((j): SearchHit => {
      const im = index.images[ranked.index[j]];
      return {
        imageId: im.id,
        imgid: im.source_id,
        file: annotationFile(im.file, index.kind),
        path: path.join(index.root, im.file),
        score: ranked.score[j],
        itcScore: ranked.score[j],
        itcRank: j,
        isTruth: false,
      };
    });
  return { queryImage: { file: o.file, imgid: at >= 0 ? index.images[at].source_id : null }, results };
}

/** A query image's embedding: its row of the index when it is an image of the split, else encoded from the file. */
async function queryImage(
  model: MomeModel,
  index: SearchIndex,
  file: string,
): Promise<{ at: number; q: Float32Array }> {
  const at = index.images.findIndex((im) => path.join(index.root, im.file) === file);
  if (at >= 0 && !index.unreadable.has(at))
    return { at, q: index.embeddings.slice(at * index.dim, (at + 1) * index.dim) };
  if (!fs.existsSync(file)) throw new ApiError('not_found', `The query image ${file} does not exist.`);
  const enc = await model.encodeImages([file]);
  if (enc.errors.has(0))
    throw new ApiError('invalid_arguments', `The query image ${file} cannot be read: ${enc.errors.get(0)}`);
  return { at, q: enc.embeddings };
}

export interface CaptionHit {
  sentid: number;
  /** The image the caption belongs to (as corrected). */
  imgid: string;
  raw: string;
  score: number;
  /** The caption belongs to the query image. */
  isTruth: boolean;
}

/**
 * Image → text: the split's captions (as corrected) ranked for a query image by the dual encoder, exactly as
 * the evaluation's image-to-text ranking: its cached caption embeddings (encoded and cached where missing) against
 * the image's embedding, the same scores.
 */
export async function searchImageCaptions(
  db: Db,
  model: MomeModel,
  index: SearchIndex,
  cacheDir: string,
  o: { file: string; k: number },
  ctx: JobContext,
): Promise<{ queryImage: { file: string; imgid: string | null }; results: CaptionHit[] }> {
  const { at, q } = await queryImage(model, index, o.file);
  const captions = splitCaptions(db, index.datasetId, index.split);
  const emb = await embedSplit(model, index.keys, index.root, [], captions, cacheDir, ctx, [0, 1]);
  const ranked = await rankImages(q, imagesTensor(emb.texts, index.dim), index.dim, Math.min(o.k, captions.length));
  const imgid = new Map(index.images.map((im) => [im.id, im.source_id]));
  const results = [...ranked.index].map((row, j): CaptionHit => {
    const c = captions[row];
    const owner = imgid.get(c.image_id) ?? '';
    return {
      sentid: c.sentid,
      imgid: owner,
      raw: c.raw,
      score: ranked.score[j],
      isTruth: at >= 0 && owner === index.images[at].source_id,
    };
  });
  return { queryImage: { file: o.file, imgid: at >= 0 ? index.images[at].source_id : null }, results };
}
