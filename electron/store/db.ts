// The one SQLite database: WAL, foreign keys on, numbered migrations at start-up.
import Database from 'better-sqlite3';
import { migrations as allMigrations, type Migration } from './migrations';

export type Db = Database.Database;

export function openDatabase(file: string, migrations: Migration[] = allMigrations): Db {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  // FULL: an edit acknowledged to the UI must survive a power cut, not only a process kill.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db, migrations);
  return db;
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

export function migrate(db: Db, migrations: Migration[]): number {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  sorted.forEach((m, i) => {
    if (m.version !== i + 1)
      throw new Error(`Migration numbering has a gap or duplicate at "${m.name}" (${m.version}).`);
  });
  const current = schemaVersion(db);
  const newest = sorted.length;
  if (current > newest) {
    throw new Error(
      `The database schema (version ${current}) is newer than this app understands (${newest}). ` +
        'Update MoME Studio, or point MOME_HOME at another folder.',
    );
  }
  for (const m of sorted.slice(current)) {
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
  return schemaVersion(db);
}

export const now = (): string => new Date().toISOString();
