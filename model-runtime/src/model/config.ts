// mome.json: the contract between the Python export and this runtime. Read with clear errors: a missing
// file or graph is named, and a directory written by a newer format version is refused with what to do.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

export const SUPPORTED_FORMAT_VERSION = 1;

const MomeJson = z
  .object({
    format_version: z.number().int().positive(),
    name: z.string().optional(),
    embed_dim: z.number().int().positive(),
    hidden_size: z.number().int().positive().optional(),
    image_size: z.number().int().positive(),
    patch_size: z.number().int().positive().optional(),
    max_text_len: z.number().int().positive(),
    mean: z.tuple([z.number(), z.number(), z.number()]).default([0.5, 0.5, 0.5]),
    std: z.tuple([z.number(), z.number(), z.number()]).default([0.5, 0.5, 0.5]),
    resize: z.string().default('bicubic'),
    vocab_file: z.string().default('vocab.txt'),
    do_lower_case: z.boolean().default(true),
    graphs: z.record(z.string(), z.string()).optional(),
    heads: z.array(z.string()).optional(),
    tasks: z.array(z.string()).optional(),
  })
  .passthrough();

export interface ModelConfig {
  dir: string;
  name: string;
  formatVersion: number;
  embedDim: number;
  imageSize: number;
  maxTextLen: number;
  mean: [number, number, number];
  std: [number, number, number];
  vocabFile: string;
  lowercase: boolean;
  graphs: { image: string; text: string; fusion: string | null; nlvr2: string | null };
  raw: Record<string, unknown>;
}

export class ModelDirectoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelDirectoryError';
  }
}

export function readModelConfig(dir: string): ModelConfig {
  const file = path.join(dir, 'mome.json');
  if (!fs.existsSync(dir)) throw new ModelDirectoryError(`The model folder ${dir} does not exist.`);
  if (!fs.existsSync(file)) throw new ModelDirectoryError(`${dir} is not a MoME model folder: mome.json is missing.`);
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ModelDirectoryError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  const parsed = MomeJson.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ModelDirectoryError(`${file} is not a valid model description: ${issues}`);
  }
  const c = parsed.data;
  if (c.format_version > SUPPORTED_FORMAT_VERSION) {
    throw new ModelDirectoryError(
      `${dir} was written in model format ${c.format_version}; this MoME Studio reads up to ${SUPPORTED_FORMAT_VERSION}. Update MoME Studio or re-export the model.`,
    );
  }
  const graph = (key: string, fallback: string, required: boolean): string | null => {
    const name = c.graphs?.[key] ?? fallback;
    const full = path.join(dir, name);
    if (fs.existsSync(full)) return full;
    if (required) throw new ModelDirectoryError(`The model in ${dir} is missing its graph ${name}.`);
    return null;
  };
  const vocab = path.join(dir, c.vocab_file);
  if (!fs.existsSync(vocab))
    throw new ModelDirectoryError(`The model in ${dir} is missing its vocabulary ${c.vocab_file}.`);
  return {
    dir,
    name: c.name ?? path.basename(dir),
    formatVersion: c.format_version,
    embedDim: c.embed_dim,
    imageSize: c.image_size,
    maxTextLen: c.max_text_len,
    mean: c.mean,
    std: c.std,
    vocabFile: vocab,
    lowercase: c.do_lower_case,
    graphs: {
      image: graph('image_encoder', 'image_encoder.onnx', true)!,
      text: graph('text_encoder', 'text_encoder.onnx', true)!,
      fusion: graph('fusion', 'fusion.onnx', false),
      nlvr2: graph('nlvr2', 'nlvr2.onnx', false),
    },
    raw: c as Record<string, unknown>,
  };
}
