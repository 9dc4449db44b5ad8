// Numbered migrations, applied in order at start-up inside one transaction each.
// Never edit a released migration: add the next number.
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

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
];
