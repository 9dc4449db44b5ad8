// A MoME model directory loaded into ONNX Runtime: image and text encoders (dual encoder for retrieval),
// the fusion encoder (ITM) and the NLVR2 head when present. Sessions load lazily on first use and can be
// released. Inference runs on ONNX Runtime's own threads (session.run is asynchronous), and the next batch
// is pre-processed while the current one runs.
import * as ort from 'onnxruntime-node';
import { ImageDecodeError } from '../image/preprocess';
import { PreprocessPool } from '../image/pool';
import { chooseProviders, type Device, type ProviderChoice } from '../session/providers';
import { WordPieceTokenizer } from '../tokenizer';
import { readModelConfig, type ModelConfig } from './config';

export interface LoadOptions {
  device?: Device;
  threads?: number;
}

export interface RunOptions {
  batchSize?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface ImageEncoding {
  /** [N, E] row-major; rows of unreadable images are zeros. */
  embeddings: Float32Array;
  /** Unreadable inputs by index, with the reason. */
  errors: Map<number, string>;
}

type GraphName = 'image' | 'text' | 'fusion' | 'nlvr2';
type ImageInput = string | Buffer;

const EXPECTED_IO: Record<GraphName, { inputs: string[]; outputs: string[] }> = {
  image: { inputs: ['pixel_values'], outputs: ['image_embeds'] },
  text: { inputs: ['input_ids', 'attention_mask'], outputs: ['text_embeds'] },
  fusion: { inputs: ['pixel_values', 'input_ids', 'attention_mask'], outputs: ['pooled', 'itm_logits'] },
  nlvr2: {
    inputs: ['pixel_values_left', 'pixel_values_right', 'input_ids', 'attention_mask'],
    outputs: ['nlvr2_logits'],
  },
};

export class CancelledError extends Error {
  constructor() {
    super('Cancelled');
    this.name = 'CancelledError';
  }
}

function softmax1(logits: Float32Array, i: number): number {
  const a = logits[2 * i];
  const b = logits[2 * i + 1];
  const m = Math.max(a, b);
  const ea = Math.exp(a - m);
  const eb = Math.exp(b - m);
  return eb / (ea + eb);
}

export class MomeModel {
  private readonly sessions = new Map<GraphName, Promise<ort.InferenceSession>>();
  private pool: PreprocessPool | null = null;

  private constructor(
    readonly config: ModelConfig,
    readonly provider: ProviderChoice,
    readonly tokenizer: WordPieceTokenizer,
    private readonly options: LoadOptions,
  ) {}

  static async load(dir: string, options: LoadOptions = {}): Promise<MomeModel> {
    const config = readModelConfig(dir);
    const provider = chooseProviders(options.device ?? 'auto');
    const tokenizer = WordPieceTokenizer.fromFile(config.vocabFile, {
      maxLen: config.maxTextLen,
      lowercase: config.lowercase,
    });
    return new MomeModel(config, provider, tokenizer, options);
  }

  get hasFusion(): boolean {
    return this.config.graphs.fusion !== null;
  }

  get hasNlvr2(): boolean {
    return this.config.graphs.nlvr2 !== null;
  }

  private session(name: GraphName): Promise<ort.InferenceSession> {
    let s = this.sessions.get(name);
    if (!s) {
      const file = this.config.graphs[name];
      if (!file) throw new Error(`The model ${this.config.name} has no ${name} graph.`);
      s = (async () => {
        const session = await ort.InferenceSession.create(file, {
          executionProviders: this.provider.providers,
          graphOptimizationLevel: 'all',
          ...(this.options.threads ? { intraOpNumThreads: this.options.threads } : {}),
        });
        const io = EXPECTED_IO[name];
        const missingIn = io.inputs.filter((n) => !session.inputNames.includes(n));
        const missingOut = io.outputs.filter((n) => !session.outputNames.includes(n));
        if (missingIn.length || missingOut.length) {
          throw new Error(
            `${file} does not have the expected inputs/outputs: missing ${[...missingIn, ...missingOut].join(', ')} (it has ${session.inputNames.join(', ')} -> ${session.outputNames.join(', ')}).`,
          );
        }
        return session;
      })();
      this.sessions.set(name, s);
      s.catch(() => this.sessions.delete(name));
    }
    return s;
  }

  /** Frees the ONNX Runtime sessions; they load again on next use. */
  async release(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await this.pool?.close();
    this.pool = null;
    for (const s of all) await (await s.catch(() => null))?.release();
  }

  private async pixels(inputs: ImageInput[], errors?: Map<number, string>, offset = 0): Promise<Float32Array> {
    const S = this.config.imageSize;
    const out = new Float32Array(inputs.length * 3 * S * S);
    this.pool ??= new PreprocessPool();
    const pool = this.pool;
    const cfg = { imageSize: S, mean: this.config.mean, std: this.config.std };
    await Promise.all(
      inputs.map(async (input, i) => {
        try {
          out.set(await pool.run(input, cfg), i * 3 * S * S);
        } catch (e) {
          if (!errors) throw e;
          errors.set(offset + i, e instanceof ImageDecodeError ? e.message : (e as Error).message);
        }
      }),
    );
    return out;
  }

  private pixelTensor(data: Float32Array, n: number): ort.Tensor {
    const S = this.config.imageSize;
    return new ort.Tensor('float32', data, [n, 3, S, S]);
  }

  private textTensors(texts: string[]): { input_ids: ort.Tensor; attention_mask: ort.Tensor } {
    const enc = this.tokenizer.encodeBatch(texts, { maxLen: this.config.maxTextLen, pad: 'max_length' });
    return {
      input_ids: new ort.Tensor('int64', enc.inputIds, enc.shape),
      attention_mask: new ort.Tensor('int64', enc.attentionMask, enc.shape),
    };
  }

  /** Batches `n` items; prepares batch b+1 while batch b runs. */
  private async batched<P>(
    n: number,
    opts: RunOptions,
    defaultBatch: number,
    prepare: (start: number, end: number) => Promise<P>,
    run: (prepared: P, start: number, end: number) => Promise<void>,
  ): Promise<void> {
    const bs = opts.batchSize ?? defaultBatch;
    let next: Promise<P> | null = n > 0 ? prepare(0, Math.min(bs, n)) : null;
    for (let start = 0; start < n; start += bs) {
      if (opts.signal?.aborted) throw new CancelledError();
      const end = Math.min(start + bs, n);
      const prepared = await next!;
      next = end < n ? prepare(end, Math.min(end + bs, n)) : null;
      await run(prepared, start, end);
      opts.onProgress?.(end, n);
    }
  }

  async encodeImages(inputs: ImageInput[], opts: RunOptions = {}): Promise<ImageEncoding> {
    const session = await this.session('image');
    const E = this.config.embedDim;
    const embeddings = new Float32Array(inputs.length * E);
    const errors = new Map<number, string>();
    await this.batched(
      inputs.length,
      opts,
      32,
      (s, e) => this.pixels(inputs.slice(s, e), errors, s),
      async (px, s, e) => {
        const out = await session.run({ pixel_values: this.pixelTensor(px, e - s) });
        embeddings.set(out.image_embeds.data as Float32Array, s * E);
        for (let i = s; i < e; i++) if (errors.has(i)) embeddings.fill(0, i * E, (i + 1) * E);
      },
    );
    return { embeddings, errors };
  }

  async encodeTexts(texts: string[], opts: RunOptions = {}): Promise<Float32Array> {
    const session = await this.session('text');
    const E = this.config.embedDim;
    const out = new Float32Array(texts.length * E);
    await this.batched(
      texts.length,
      opts,
      256,
      async (s, e) => this.textTensors(texts.slice(s, e)),
      async (feeds, s) => {
        const r = await session.run(feeds);
        out.set(r.text_embeds.data as Float32Array, s * E);
      },
    );
    return out;
  }

  /** Probability that each (image, text) pair matches, from the ITM head of the fusion encoder. */
  async itmScores(pairs: { image: ImageInput; text: string }[], opts: RunOptions = {}): Promise<Float32Array> {
    const session = await this.session('fusion');
    const out = new Float32Array(pairs.length);
    await this.batched(
      pairs.length,
      opts,
      16,
      async (s, e) => ({
        px: await this.pixels(pairs.slice(s, e).map((p) => p.image)),
        text: this.textTensors(pairs.slice(s, e).map((p) => p.text)),
      }),
      async ({ px, text }, s, e) => {
        const r = await session.run({ pixel_values: this.pixelTensor(px, e - s), ...text });
        const logits = r.itm_logits.data as Float32Array;
        for (let i = 0; i < e - s; i++) out[s + i] = softmax1(logits, i);
      },
    );
    return out;
  }

  /** Probability that each NLVR2 statement is True of its image pair. */
  async nlvr2(
    examples: { left: ImageInput; right: ImageInput; sentence: string }[],
    opts: RunOptions = {},
  ): Promise<Float32Array> {
    const session = await this.session('nlvr2');
    const out = new Float32Array(examples.length);
    await this.batched(
      examples.length,
      opts,
      16,
      async (s, e) => {
        const slice = examples.slice(s, e);
        return {
          left: await this.pixels(slice.map((x) => x.left)),
          right: await this.pixels(slice.map((x) => x.right)),
          text: this.textTensors(slice.map((x) => x.sentence)),
        };
      },
      async ({ left, right, text }, s, e) => {
        const r = await session.run({
          pixel_values_left: this.pixelTensor(left, e - s),
          pixel_values_right: this.pixelTensor(right, e - s),
          ...text,
        });
        const logits = r.nlvr2_logits.data as Float32Array;
        for (let i = 0; i < e - s; i++) out[s + i] = softmax1(logits, i);
      },
    );
    return out;
  }

  /** Runs one graph on raw tensors (the run-graphs CLI): every output, as returned. */
  async runGraph(name: GraphName, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
    return (await this.session(name)).run(feeds);
  }
}
