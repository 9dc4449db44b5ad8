// Numbered migrations, applied in order at start-up inside one transaction each.
// Never edit a released migration: add the next number.
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * Keeps the caption full-text index in step with single inserts. The importer drops it inside its
 * transaction and indexes a whole dataset in one statement (about 5x faster), then recreates it from
 * this same text. Part of migration 2: never change it, add a migration instead.
 */
export const CAPTIONS_FTS_INSERT_TRIGGER = `CREATE TRIGGER captions_ai AFTER INSERT ON captions BEGIN
        INSERT INTO captions_fts(rowid, raw) VALUES (new.id, new.raw);
      END;`;

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'jobs and media roots',
    sql: `
      CREATE TABLE jobs (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        kind        TEXT NOT NULL,
        title       TEXT NOT NULL,
        state       TEXT NOT NULL CHECK (state IN ('queued','running','succeeded','failed','cancelled','interrupted')),
        progress    REAL NOT NULL DEFAULT 0 CHECK (progress >= 0 AND progress <= 1),
        message     TEXT NOT NULL DEFAULT '',
        params      TEXT NOT NULL DEFAULT '{}',
        result      TEXT,
        error       TEXT,
        pid         INTEGER,
        created_at  TEXT NOT NULL,
        started_at  TEXT,
        finished_at TEXT
      );
      CREATE INDEX jobs_state ON jobs(state);
      CREATE TABLE media_roots (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        path       TEXT NOT NULL UNIQUE,
        label      TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'datasets, images, captions, NLVR2 examples',
    sql: `
      CREATE TABLE datasets (
        id               INTEGER PRIMARY KEY AUTOINCREMENT,
        kind             TEXT NOT NULL CHECK (kind IN ('coco','flickr30k','nlvr2')),
        name             TEXT NOT NULL,
        root             TEXT NOT NULL UNIQUE,
        annotation_files TEXT NOT NULL,
        fingerprint      TEXT NOT NULL,
        summary          TEXT NOT NULL,
        imported_at      TEXT NOT NULL,
        refreshed_at     TEXT
      );
      CREATE TABLE images (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        dataset_id  INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        source_id   TEXT NOT NULL,
        split       TEXT NOT NULL,
        file        TEXT NOT NULL,
        cocoid      INTEGER,
        flags       TEXT NOT NULL DEFAULT '',
        UNIQUE (dataset_id, source_id)
      );
      CREATE INDEX images_split ON images(dataset_id, split);
      CREATE TABLE captions (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        dataset_id  INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        image_id    INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        sentid      INTEGER NOT NULL,
        position    INTEGER NOT NULL,
        raw         TEXT NOT NULL,
        UNIQUE (dataset_id, sentid)
      );
      CREATE INDEX captions_image ON captions(image_id, position);
      CREATE VIRTUAL TABLE captions_fts USING fts5(raw, content='captions', content_rowid='id');
      ${CAPTIONS_FTS_INSERT_TRIGGER}
      CREATE TRIGGER captions_ad AFTER DELETE ON captions BEGIN
        INSERT INTO captions_fts(captions_fts, rowid, raw) VALUES ('delete', old.id, old.raw);
      END;
      CREATE TRIGGER captions_au AFTER UPDATE ON captions BEGIN
        INSERT INTO captions_fts(captions_fts, rowid, raw) VALUES ('delete', old.id, old.raw);
        INSERT INTO captions_fts(rowid, raw) VALUES (new.id, new.raw);
      END;
      CREATE TABLE nlvr2_examples (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        dataset_id  INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        identifier  TEXT NOT NULL,
        split       TEXT NOT NULL,
        sentence    TEXT NOT NULL,
        label       INTEGER CHECK (label IN (0, 1)),
        left_file   TEXT NOT NULL,
        right_file  TEXT NOT NULL,
        flags       TEXT NOT NULL DEFAULT '',
        extra       TEXT NOT NULL DEFAULT '{}',
        UNIQUE (dataset_id, identifier)
      );
      CREATE INDEX nlvr2_split ON nlvr2_examples(dataset_id, split);
    `,
  },
  {
    version: 3,
    name: 'label history',
    sql: `
      -- Append-only: a row is never updated or deleted. The current value of (dataset, target, field) is the
      -- newest row; undo and redo append rows that point at the row they reverse. Rows keep the dataset id
      -- without a foreign key so that removing a dataset keeps its labels.
      CREATE TABLE label_events (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        dataset_id   INTEGER NOT NULL,
        target_kind  TEXT NOT NULL CHECK (target_kind IN ('caption', 'image', 'nlvr2', 'pair')),
        target_key   TEXT NOT NULL,
        field        TEXT NOT NULL,
        old_value    TEXT,
        new_value    TEXT,
        author       TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        view         TEXT,
        eval_run_id  INTEGER,
        reverses     INTEGER REFERENCES label_events(id),
        action       TEXT NOT NULL DEFAULT 'edit' CHECK (action IN ('edit', 'undo', 'redo', 'revert'))
      );
      CREATE INDEX label_events_target ON label_events(dataset_id, target_kind, target_key, field, id);
      CREATE INDEX label_events_author ON label_events(author, id);
      CREATE TRIGGER label_events_no_update BEFORE UPDATE ON label_events BEGIN
        SELECT RAISE(ABORT, 'label history is append-only');
      END;
      CREATE TRIGGER label_events_no_delete BEFORE DELETE ON label_events BEGIN
        SELECT RAISE(ABORT, 'label history is append-only');
      END;
    `,
  },
  {
    version: 4,
    name: 'evaluation runs',
    sql: `
      CREATE TABLE eval_runs (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        task         TEXT NOT NULL CHECK (task IN ('retrieval', 'nlvr2')),
        model_name   TEXT NOT NULL,
        model_dir    TEXT NOT NULL,
        model_version TEXT NOT NULL,
        dataset_id   INTEGER NOT NULL,
        split        TEXT NOT NULL,
        options      TEXT NOT NULL,
        metrics      TEXT NOT NULL,
        provider     TEXT NOT NULL,
        seconds      REAL NOT NULL,
        created_at   TEXT NOT NULL
      );
      -- one row per query: a caption (its image's rank, top-k images), an image (best caption rank, top-k
      -- captions) or an NLVR2 example (probability of True); mistakenness orders the likely label errors
      CREATE TABLE eval_items (
        run_id       INTEGER NOT NULL REFERENCES eval_runs(id) ON DELETE CASCADE,
        kind         TEXT NOT NULL CHECK (kind IN ('caption', 'image', 'nlvr2')),
        item_key     TEXT NOT NULL,
        rank         INTEGER,
        score        REAL,
        mistakenness REAL NOT NULL,
        top          TEXT,
        PRIMARY KEY (run_id, kind, item_key)
      ) WITHOUT ROWID;
      CREATE INDEX eval_items_mistakes ON eval_items(run_id, kind, mistakenness DESC);
      CREATE INDEX eval_items_rank ON eval_items(run_id, kind, rank DESC);
    `,
  },
  {
    version: 5,
    name: 'model registry',
    sql: `
      -- A registered model is immutable: its folder in the app's model store never changes after import.
      CREATE TABLE models (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        name          TEXT NOT NULL,
        version       TEXT NOT NULL,
        dir           TEXT NOT NULL UNIQUE,
        source_path   TEXT NOT NULL,
        source_sha256 TEXT,
        parent_id     INTEGER REFERENCES models(id),
        architecture  TEXT NOT NULL,
        size_bytes    INTEGER NOT NULL,
        created_at    TEXT NOT NULL,
        removed_at    TEXT
      );
    `,
  },
  {
    version: 6,
    name: 'label edit batches',
    sql: `
      -- The events written by one call (a bulk action, an undo of one) share a batch: undo and redo act on
      -- the whole batch, so one Ctrl+Z takes back a bulk flip of 50 examples. NULL for older single edits.
      ALTER TABLE label_events ADD COLUMN batch INTEGER;
    `,
  },
  {
    version: 7,
    name: 'fine-tunes',
    sql: `
      -- One row per fine-tune job: what it trained on (dataset, data snapshot hash, config), from which model,
      -- what it produced (model, the evaluation runs before and after) and the tail of its log.
      CREATE TABLE finetunes (
        job_id        INTEGER PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,
        dataset_id    INTEGER NOT NULL,
        task          TEXT NOT NULL CHECK (task IN ('retrieval', 'nlvr2')),
        base_model_id INTEGER REFERENCES models(id),
        base_dir      TEXT NOT NULL,
        config        TEXT NOT NULL,
        counts        TEXT NOT NULL DEFAULT '{}',
        data_snapshot TEXT,
        mode          TEXT,
        mode_reason   TEXT,
        device        TEXT,
        model_id      INTEGER REFERENCES models(id),
        before_run_id INTEGER REFERENCES eval_runs(id),
        after_run_id  INTEGER REFERENCES eval_runs(id),
        samples_per_s REAL,
        log_tail      TEXT NOT NULL DEFAULT '',
        created_at    TEXT NOT NULL
      );
      -- the loss and learning-rate curve, one row per reported step
      CREATE TABLE finetune_points (
        job_id        INTEGER NOT NULL REFERENCES finetunes(job_id) ON DELETE CASCADE,
        step          INTEGER NOT NULL,
        loss          REAL NOT NULL,
        lr            REAL NOT NULL,
        samples_per_s REAL,
        PRIMARY KEY (job_id, step)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 8,
    name: 'datasets written in steps, cheap deep pages',
    sql: `
      -- A dataset being imported (its rows written in committed chunks, off the main thread) or being removed
      -- (its rows deleted in chunks) is hidden until the last step; busy_pid is the process doing that, or
      -- refreshing it, so a second import of the folder is refused and a killed process's leftovers are
      -- recognised and cleaned up at the next start.
      ALTER TABLE datasets ADD COLUMN state TEXT NOT NULL DEFAULT 'ready'
        CHECK (state IN ('ready', 'importing', 'removing'));
      ALTER TABLE datasets ADD COLUMN busy_pid INTEGER;
      -- browse pages in every sort order read an index in order (OFFSET steps over index entries only)
      ALTER TABLE images ADD COLUMN caption_count INTEGER NOT NULL DEFAULT 0;
      UPDATE images SET caption_count = (SELECT count(*) FROM captions c WHERE c.image_id = images.id);
      CREATE INDEX images_dataset ON images(dataset_id, id);
      CREATE INDEX images_file ON images(dataset_id, file, id);
      CREATE INDEX images_captions ON images(dataset_id, caption_count DESC, id);
      CREATE INDEX images_flagged ON images(dataset_id, flags = '', id);
      CREATE INDEX images_split_file ON images(dataset_id, split, file, id);
      CREATE INDEX images_split_captions ON images(dataset_id, split, caption_count DESC, id);
      CREATE INDEX images_split_flagged ON images(dataset_id, split, flags = '', id);
      CREATE INDEX nlvr2_id ON nlvr2_examples(dataset_id, id);
    `,
  },
  {
    version: 9,
    name: 'label adjudication and snapshots (adjudication-18)',
    sql: `
      -- "Corrections need review": an event written while the project setting was on, changing a field that
      -- exports and fine-tunes read, is marked 'required'; it is in force only once a second person accepts it.
      ALTER TABLE label_events ADD COLUMN review TEXT CHECK (review IN ('required'));
      -- Append-only decisions on such events. A rejection also appends a label event restoring the value in
      -- force (revert_event_id), so the history stays the truth of what a field holds.
      CREATE TABLE label_reviews (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id        INTEGER NOT NULL REFERENCES label_events(id),
        dataset_id      INTEGER NOT NULL,
        decision        TEXT NOT NULL CHECK (decision IN ('accept', 'reject')),
        author          TEXT NOT NULL,
        created_at      TEXT NOT NULL,
        note            TEXT,
        revert_event_id INTEGER REFERENCES label_events(id)
      );
      CREATE INDEX label_reviews_event ON label_reviews(event_id, id);
      CREATE INDEX label_reviews_dataset ON label_reviews(dataset_id, id);
      CREATE TRIGGER label_reviews_no_update BEFORE UPDATE ON label_reviews BEGIN
        SELECT RAISE(ABORT, 'label reviews are append-only');
      END;
      CREATE TRIGGER label_reviews_no_delete BEFORE DELETE ON label_reviews BEGIN
        SELECT RAISE(ABORT, 'label reviews are append-only');
      END;
      -- A named snapshot of a dataset's labels: high-water marks into label_events and label_reviews (the
      -- labels in force up to those rows), never a copy of the values. Taken at every fine-tune and on demand.
      CREATE TABLE label_snapshots (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        dataset_id      INTEGER NOT NULL,
        name            TEXT NOT NULL,
        reason          TEXT NOT NULL CHECK (reason IN ('manual', 'finetune')),
        event_mark      INTEGER NOT NULL,
        review_mark     INTEGER NOT NULL,
        author          TEXT NOT NULL,
        created_at      TEXT NOT NULL,
        corrections     INTEGER NOT NULL,
        pending_left_out INTEGER NOT NULL,
        finetune_job_id INTEGER,
        model_id        INTEGER
      );
      CREATE INDEX label_snapshots_dataset ON label_snapshots(dataset_id, id);
      CREATE INDEX label_snapshots_job ON label_snapshots(finetune_job_id);
      CREATE INDEX label_snapshots_model ON label_snapshots(model_id);
    `,
  },
  {
    version: 10,
    name: 'caption search reads image ids from an index',
    sql: `
      -- A caption search maps each matching caption id (the full-text index's rowid) to its dataset and image:
      -- from this narrow index, not the captions' wide rows (a third less time for 10,000 images at 5M captions).
      CREATE INDEX captions_search ON captions(id, dataset_id, image_id);
    `,
  },
  {
    version: 11,
    name: 'the words of the caption index',
    sql: `
      -- The indexed words, so that a search's last word (a prefix) is read as the words it starts
      -- (datasets/caption-terms.ts); valid while the index's structure record is the one kept with it.
      CREATE TABLE caption_terms (term TEXT PRIMARY KEY) WITHOUT ROWID;
      CREATE TABLE caption_terms_state (
        id        INTEGER PRIMARY KEY CHECK (id = 1),
        structure BLOB NOT NULL
      );
      CREATE VIRTUAL TABLE temp.captions_vocab_v11 USING fts5vocab(main, captions_fts, 'row');
      INSERT INTO caption_terms (term) SELECT term FROM temp.captions_vocab_v11;
      INSERT INTO caption_terms_state (id, structure)
        VALUES (1, coalesce((SELECT block FROM captions_fts_data WHERE id = 10), x''));
      DROP TABLE temp.captions_vocab_v11;
    `,
  },
  {
    version: 12,
    name: 'evaluation runs written in steps',
    sql: `
      -- A run's per-query rows are written in committed batches (a million-image split has six million); the run
      -- stays 'writing', hidden from every read, until the transaction that stores its metrics makes it
      -- 'complete'. busy_pid is the process writing it, so a killed process's partial run is recognised and
      -- deleted at the next start.
      ALTER TABLE eval_runs ADD COLUMN state TEXT NOT NULL DEFAULT 'complete' CHECK (state IN ('writing', 'complete'));
      ALTER TABLE eval_runs ADD COLUMN busy_pid INTEGER;
    `,
  },
];
