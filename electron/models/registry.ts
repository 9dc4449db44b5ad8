// The model registry: official checkpoints (converted by `python -m mome convert` as a job) and ready model
// folders, copied into the app's model store as immutable versions; one of them is active.
import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../api/contract';
import type { ModelVersion } from '../api/schemas';
import type { JobContext } from '../jobs/service';
import { now, type Db } from '../store/db';
import { deleteSetting, readSetting, writeSetting } from '../store/settings';
import { isInside } from '../media/roots';
import { readModelConfig, chooseProviders, cudaStatus } from '../../model-runtime/src/index';
import { convertCheckpoint } from './convert';
import { architecture, folderSize, sha256File, registryVersion } from './model-folder';

interface ModelRow {
  id: number;
  name: string;
  version: string;
  dir: string;
  source_path: string;
  source_sha256: string | null;
  parent_id: number | null;
  architecture: string;
  size_bytes: number;
  created_at: string;
  removed_at: string | null;
}

const CHECKPOINT = /\.(pt|pth|ckpt|bin|safetensors)$/i;

export type ModelDevice = 'auto' | 'cpu';

/** The setting that names the active model's id. */
const ACTIVE_KEY = 'active_model';

/** Changes whenever the model list or the active model changes. */
export function modelListStamp(db: Db): string {
  const list = db.prepare('SELECT count(*), max(id), count(removed_at) FROM models').get();
  return JSON.stringify([list, readSetting(db, ACTIVE_KEY) ?? null]);
}

export class ModelRegistry {
  constructor(
    private readonly db: Db,
    private readonly storeDir: string,
  ) {}

  private toModel(r: ModelRow): ModelVersion {
    const active = this.activeId() === r.id;
    return {
      id: r.id,
      name: r.name,
      version: r.version,
      dir: r.dir,
      sourcePath: r.source_path,
      sourceSha256: r.source_sha256,
      parentId: r.parent_id,
      architecture: JSON.parse(r.architecture),
      sizeBytes: r.size_bytes,
      createdAt: r.created_at,
      removedAt: r.removed_at,
      active,
    };
  }

  /** Registered models; removed ones too when asked (their evaluation runs still name them). */
  list(includeRemoved = false): ModelVersion[] {
    const where = includeRemoved ? '' : 'WHERE removed_at IS NULL';
    return (this.db.prepare(`SELECT * FROM models ${where} ORDER BY id`).all() as ModelRow[]).map((r) =>
      this.toModel(r),
    );
  }

  /** Any model ever registered, removed or not (for its card and its evaluation records). */
  getAny(id: number): ModelVersion {
    const r = this.db.prepare('SELECT * FROM models WHERE id = ?').get(id) as ModelRow | undefined;
    if (!r) throw new ApiError('not_found', `There is no model ${id}.`);
    return this.toModel(r);
  }

  get(id: number): ModelVersion {
    const r = this.db.prepare('SELECT * FROM models WHERE id = ? AND removed_at IS NULL').get(id) as
      ModelRow | undefined;
    if (!r) throw new ApiError('not_found', `There is no model ${id}.`);
    return this.toModel(r);
  }

  activeId(): number | null {
    const value = readSetting(this.db, ACTIVE_KEY);
    return value !== undefined ? Number(value) : null;
  }

  active(): ModelVersion | null {
    const id = this.activeId();
    if (id === null) return null;
    try {
      return this.get(id);
    } catch {
      return null;
    }
  }

  setActive(id: number): ModelVersion {
    this.get(id);
    writeSetting(this.db, ACTIVE_KEY, String(id));
    return this.get(id);
  }

  /** Marks a model removed and deletes its folder; evaluation runs keep naming it. */
  remove(id: number): void {
    const m = this.get(id);
    this.db.transaction(() => {
      this.db.prepare('UPDATE models SET removed_at = ? WHERE id = ?').run(now(), id);
      if (this.activeId() === id) deleteSetting(this.db, ACTIVE_KEY);
    })();
    // only the store's own folders are deleted: the model shipped with the app stays in assets/
    if (isInside(path.resolve(this.storeDir), path.resolve(m.dir))) fs.rmSync(m.dir, { recursive: true, force: true });
  }

  /**
   * The tiny model shipped in assets/ becomes a registered version in place (never copied, never deleted), once
   * per shipped version, and the active model when none is: the app opens with a model that works. A user who
   * removed it does not get it back on the next start.
   */
  registerShipped(dir: string | null): ModelVersion | null {
    if (!dir) return null;
    const version = registryVersion(dir);
    const key = 'models.shipped';
    const seen: string[] = JSON.parse(this.setting(key) ?? '[]');
    if (seen.includes(version)) return null;
    return this.db.transaction(() => {
      // an older shipped version in the same folder was replaced by this one: its files are gone, its row
      // stays (removed) for its evaluation runs, under a name that frees the folder for this version
      this.db
        .prepare(`UPDATE models SET dir = dir || '#' || version, removed_at = coalesce(removed_at, ?) WHERE dir = ?`)
        .run(now(), dir);
      const id = Number(
        this.db
          .prepare(
            `INSERT INTO models (name, version, dir, source_path, source_sha256, architecture, size_bytes, created_at)
             VALUES (?, ?, ?, ?, NULL, ?, ?, ?)`,
          )
          .run(path.basename(dir), version, dir, dir, JSON.stringify(architecture(dir)), folderSize(dir), now())
          .lastInsertRowid,
      );
      this.setSetting(key, JSON.stringify([...seen, version]));
      if (this.active() === null) this.setActive(id);
      return this.getAny(id);
    })();
  }

  /**
   * Imports a checkpoint file (converted) or a model folder (copied); nothing remains on failure. The BERT
   * vocabulary the user named once is remembered and used for later checkpoints.
   */
  async import(source: string, ctx: JobContext, vocab?: string): Promise<ModelVersion> {
    const stat = fs.statSync(source, { throwIfNoEntry: false });
    if (!stat) throw new ApiError('not_found', `${source} does not exist.`);
    const remembered = vocab ? undefined : this.setting('bert_vocab');
    if (!vocab && remembered && fs.existsSync(remembered)) vocab = remembered;
    fs.mkdirSync(this.storeDir, { recursive: true });
    const tmp = fs.mkdtempSync(path.join(this.storeDir, '.import-'));
    const target = path.join(tmp, 'model');
    try {
      const sha = stat.isDirectory()
        ? this.copyFolder(source, target, ctx)
        : await this.convertCheckpoint(source, target, ctx, vocab);
      return this.register(source, target, sha);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }

  /** A ready model folder, copied file by file (no source hash of its own: its mome.json records one). */
  private copyFolder(source: string, target: string, ctx: JobContext): null {
    readModelConfig(source); // a clear error when it is not a model folder
    this.refuseDuplicate('version = ?', registryVersion(source), source);
    fs.mkdirSync(target);
    const files = fs.readdirSync(source).filter((f) => fs.statSync(path.join(source, f)).isFile());
    files.forEach((f, i) => {
      ctx.throwIfCancelled();
      fs.copyFileSync(path.join(source, f), path.join(target, f));
      ctx.progress((i + 1) / files.length, `Copying ${f}`);
    });
    return null;
  }

  /** An official checkpoint, converted by Python into `target`; answers the checkpoint's sha256. */
  private async convertCheckpoint(source: string, target: string, ctx: JobContext, vocab?: string): Promise<string> {
    if (!CHECKPOINT.test(source)) {
      throw new ApiError(
        'invalid_arguments',
        `${path.basename(source)} is neither a model folder (with mome.json) nor a checkpoint (.pt, .pth, .ckpt, .bin, .safetensors).`,
      );
    }
    ctx.progress(0.02, `Hashing ${path.basename(source)}`);
    const sha = await sha256File(source);
    this.refuseDuplicate('source_sha256 = ? AND parent_id IS NULL', sha, source); // before minutes of converting
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const failedLog = path.join(path.dirname(this.storeDir), 'logs', `convert-${path.basename(source)}-${stamp}.log`);
    await convertCheckpoint(source, target, ctx, vocab, failedLog);
    if (vocab) this.setSetting('bert_vocab', vocab);
    return sha;
  }

  /** Registers the folder in `target` and moves it into the store under its id; active when none is. */
  private register(source: string, target: string, sha: string | null): ModelVersion {
    const config = readModelConfig(target);
    const version = registryVersion(target);
    this.refuseDuplicate('version = ?', version, source);
    // a folder of this store keeps its registered name, not the store's "<id>-<name>" folder name
    const registered = this.db.prepare('SELECT name FROM models WHERE dir = ?').get(path.resolve(source)) as
      { name: string } | undefined;
    const name = registered?.name ?? path.basename(source).replace(CHECKPOINT, '');
    const provenance = config.raw.provenance as { source_sha256?: string } | undefined;
    const info = this.db
      .prepare(
        `INSERT INTO models (name, version, dir, source_path, source_sha256, architecture, size_bytes, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        name,
        version,
        `${target}.pending`, // dir is unique; the final folder is known once the id is
        source,
        sha ?? provenance?.source_sha256 ?? null,
        JSON.stringify(architecture(target)),
        folderSize(target),
        now(),
      );
    const id = Number(info.lastInsertRowid);
    const final = path.join(this.storeDir, `${id}-${name.replace(/[^A-Za-z0-9._-]/g, '_')}`);
    try {
      fs.renameSync(target, final);
    } catch (e) {
      this.db.prepare('DELETE FROM models WHERE id = ?').run(id); // nothing half-imported remains
      throw e;
    }
    this.db.prepare('UPDATE models SET dir = ? WHERE id = ?').run(final, id);
    if (this.activeId() === null) this.setActive(id);
    return this.get(id);
  }

  /** A fine-tune's output folder becomes a new immutable version, moved into the store, child of `parentId`. */
  registerFineTune(folder: string, name: string, parentId: number | null): ModelVersion {
    readModelConfig(folder); // a clear error when the trainer wrote no model folder
    const version = registryVersion(folder);
    const id = Number(
      this.db
        .prepare(
          `INSERT INTO models (name, version, dir, source_path, parent_id, architecture, size_bytes, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          name,
          version,
          `${folder}.pending`,
          folder,
          parentId,
          JSON.stringify(architecture(folder)),
          folderSize(folder),
          now(),
        ).lastInsertRowid,
    );
    const final = path.join(this.storeDir, `${id}-${name.replace(/[^A-Za-z0-9._-]/g, '_')}`);
    try {
      fs.mkdirSync(this.storeDir, { recursive: true });
      fs.renameSync(folder, final);
    } catch (e) {
      this.db.prepare('DELETE FROM models WHERE id = ?').run(id);
      throw e;
    }
    this.db.prepare('UPDATE models SET dir = ? WHERE id = ?').run(final, id);
    return this.get(id);
  }

  /** The same model twice would be two identical "versions": refused, naming the one already registered. */
  private refuseDuplicate(where: string, value: string, source: string): void {
    const twin = this.db
      .prepare(`SELECT id, name, version FROM models WHERE ${where} AND removed_at IS NULL`)
      .get(value) as { id: number; name: string; version: string } | undefined;
    if (twin) {
      throw new ApiError(
        'conflict',
        `${path.basename(source)} is already registered as model ${twin.id} (${twin.name}, version ${twin.version}); make that one active instead, or remove it first.`,
        { modelId: twin.id },
      );
    }
  }

  private setting(key: string): string | undefined {
    return readSetting(this.db, key);
  }

  private setSetting(key: string, value: string): void {
    writeSetting(this.db, key, value);
  }

  /** The execution device the user chose: 'auto' (CUDA where it can run, else CPU) or 'cpu' explicitly. */
  device(): ModelDevice {
    return this.setting('model_device') === 'cpu' ? 'cpu' : 'auto';
  }

  setDevice(device: ModelDevice): void {
    this.setSetting('model_device', device);
  }

  /**
   * Which provider the models run on here and why. With CPU chosen explicitly the reason still says whether
   * CUDA could have been used, so the choice is an informed one.
   */
  providerFor(): {
    device: ModelDevice;
    provider: string;
    reason: string;
    cuda: { available: boolean; reason: string };
  } {
    const device = this.device();
    const cuda = cudaStatus();
    try {
      const c = chooseProviders(device);
      const reason = device === 'cpu' ? `${c.reason} (${cuda.reason})` : c.reason;
      return { device, provider: c.provider, reason, cuda };
    } catch (e) {
      return { device, provider: 'cpu', reason: (e as Error).message, cuda };
    }
  }
}
