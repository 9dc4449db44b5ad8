// The app's search: which model (the active one or a registered version), the split's index held in memory
// between queries (the two most recent), and the one job that encodes a split the cache lacks. A query that
// finds its split still encoding answers with that job, and the UI asks again when it finishes.
import path from 'node:path';
import { ApiError } from '../api/contract';
import type { Job } from '../api/schemas';
import { imageFile, splitImageStamp } from '../datasets/items';
import { datasetInfo } from '../datasets/repository';
import type { Db } from '../store/db';
import type { JobService } from '../jobs/service';
import type { ModelRegistry } from '../models/registry';
import { cacheKeys, type CacheKeys } from '../models/model-folder';
import { readModelConfig, type MomeModel } from '../../model-runtime/src/index';
import {
  buildIndex,
  indexFromCache,
  loadSearchModel,
  searchImage,
  searchText,
  type ImageSearchResult,
  type SearchIndex,
  type TextSearchResult,
} from './engine';

export interface SearchArgs {
  datasetId: number;
  split: string;
  modelId?: number;
  text?: string;
  /** Image → image: a dataset image (row id) instead of a text. */
  imageId?: number;
  k: number;
  rerankK: number;
}

export type SearchResponse = (
  | ({ state: 'ready'; job: null; queryImage: ImageSearchResult['queryImage'] | null } & Omit<
      TextSearchResult,
      'query'
    > & { query: TextSearchResult['query'] | null })
  | { state: 'encoding'; job: Job; query: null; caption: null; queryImage: null; rerankK: number; results: [] }
) & {
  model: { id: number | null; name: string; version: string };
  images: number;
  unreadable: number;
  seconds: number;
};

const KEEP_INDICES = 2;

export class SearchService {
  private readonly indices = new Map<string, SearchIndex>();
  private readonly building = new Map<string, number>();
  private readonly models = new Map<string, Promise<MomeModel>>();

  constructor(
    private readonly deps: {
      db: Db;
      jobs: JobService;
      registry: ModelRegistry;
      cacheDir: string;
      defaultModelDir: () => string | null;
    },
  ) {}

  private modelFor(modelId?: number): { id: number | null; dir: string; name: string } {
    if (modelId !== undefined) {
      const m = this.deps.registry.get(modelId);
      return { id: m.id, dir: m.dir, name: m.name };
    }
    const active = this.deps.registry.active();
    if (active) return { id: active.id, dir: active.dir, name: active.name };
    const dir = this.deps.defaultModelDir();
    if (!dir) throw new ApiError('not_found', 'No model is active and the embedded default model is not installed.');
    return { id: null, dir, name: 'mome-tiny' };
  }

  private loaded(dir: string, rerankK: number): Promise<MomeModel> {
    let m = this.models.get(dir);
    if (!m) {
      m = loadSearchModel(dir, this.deps.registry.device(), 0);
      this.models.set(dir, m);
      m.catch(() => this.models.delete(dir));
    }
    return m.then((model) => {
      if (rerankK > 0 && !model.hasFusion)
        throw new ApiError(
          'invalid_arguments',
          `The model ${model.config.name} has no fusion graph (fusion.onnx) to re-rank with ITM; search without re-rank.`,
        );
      return model;
    });
  }

  private keyOf(fingerprint: string, datasetId: number, split: string): string {
    const { n, last } = splitImageStamp(this.deps.db, datasetId, split);
    return `${fingerprint}|${datasetId}|${split}|${n}|${last}`; // a refreshed dataset has new rows: a new index
  }

  private remember(key: string, index: SearchIndex) {
    this.indices.delete(key);
    this.indices.set(key, index);
    while (this.indices.size > KEEP_INDICES) this.indices.delete(this.indices.keys().next().value!);
  }

  async search(a: SearchArgs): Promise<SearchResponse> {
    const started = performance.now();
    const text = a.text ?? '';
    if (a.imageId !== undefined && text.trim())
      throw new ApiError('invalid_arguments', 'Search with a text or with an image, not both.');
    if (a.imageId !== undefined && a.rerankK > 0)
      throw new ApiError('invalid_arguments', 'ITM re-ranks for a text query; an image query has no text to match.');
    if (a.imageId === undefined && !text.trim())
      throw new ApiError('invalid_arguments', 'The query is empty: type a sentence to search for.');
    const m = this.modelFor(a.modelId);
    datasetInfo(this.deps.db, a.datasetId);
    let config;
    try {
      config = readModelConfig(m.dir);
    } catch (e) {
      throw new ApiError('invalid_arguments', `This model cannot search: ${(e as Error).message}`);
    }
    // refused before any encoding job starts, not after it
    if (a.rerankK > 0 && config.graphs.fusion === null)
      throw new ApiError(
        'invalid_arguments',
        `The model ${config.name} has no fusion graph (fusion.onnx) to re-rank with ITM; search without re-rank.`,
      );
    const keys = cacheKeys(m.dir);
    const fingerprint = keys.texts;
    // the answer's `version` is the fingerprint (a registered model's card shows its registry version)
    const model = { id: m.id, name: m.name, version: fingerprint };
    const key = this.keyOf(fingerprint, a.datasetId, a.split);
    let index = this.indices.get(key);
    if (!index) {
      const running = this.building.get(key);
      const job = running !== undefined ? this.deps.jobs.get(running) : null;
      if (job && (job.state === 'running' || job.state === 'queued')) return this.encoding(job, model, a, started);
      const cached = await indexFromCache(
        this.deps.db,
        a.datasetId,
        a.split,
        keys,
        config.embedDim,
        this.deps.cacheDir,
      );
      if (!cached.index) return this.encoding(this.startEncoding(key, m, keys, a), model, a, started, cached.images);
      index = cached.index;
    }
    this.remember(key, index);
    const loaded = await this.loaded(m.dir, a.rerankK);
    const found =
      a.imageId !== undefined
        ? await this.byImage(loaded, index, a.imageId, a.k)
        : {
            ...(await searchText(this.deps.db, loaded, index, this.deps.cacheDir, { ...a, text })),
            queryImage: null,
          };
    return {
      state: 'ready',
      job: null,
      ...found,
      model,
      images: index.images.length,
      unreadable: index.unreadable.size,
      seconds: (performance.now() - started) / 1000,
    };
  }

  private async byImage(model: MomeModel, index: SearchIndex, imageId: number, k: number) {
    const file = imageFile(this.deps.db, index.datasetId, imageId);
    if (file === undefined)
      throw new ApiError('not_found', `Dataset ${index.datasetId} has no image with id ${imageId}.`);
    const r = await searchImage(model, index, { file: path.join(index.root, file), k });
    return { query: null, caption: null, rerankK: 0, ...r };
  }

  private encoding(
    job: Job,
    model: SearchResponse['model'],
    a: SearchArgs,
    started: number,
    images = 0,
  ): SearchResponse {
    return {
      state: 'encoding',
      job,
      query: null,
      caption: null,
      queryImage: null,
      rerankK: a.rerankK,
      results: [],
      model,
      images,
      unreadable: 0,
      seconds: (performance.now() - started) / 1000,
    };
  }

  private startEncoding(key: string, m: { dir: string; name: string }, keys: CacheKeys, a: SearchArgs): Job {
    const job = this.deps.jobs.start(
      'search-index',
      `Encode the images of dataset ${a.datasetId} (${a.split === '*' ? 'all splits' : a.split}) for search with ${m.name}`,
      { datasetId: a.datasetId, split: a.split, modelDir: m.dir },
      async (ctx) => {
        ctx.progress(0.01, 'Loading the model');
        const model = await this.loaded(m.dir, 0);
        const index = await buildIndex(this.deps.db, model, keys, a.datasetId, a.split, this.deps.cacheDir, ctx);
        this.remember(key, index);
        return { images: index.images.length, unreadable: index.unreadable.size };
      },
    );
    this.building.set(key, job.id);
    void this.deps.jobs.wait(job.id).finally(() => this.building.delete(key));
    return job;
  }

  async close(): Promise<void> {
    const all = [...this.models.values()];
    this.models.clear();
    this.indices.clear();
    for (const m of all) await (await m.catch(() => null))?.release();
  }
}
