import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrate, openDatabase, schemaVersion } from '../../electron/store/db';
import { migrations } from '../../electron/store/migrations';
import { tempDir } from './helpers/temp';

describe('SQLite store', () => {
  it('creates the schema with numbered migrations, WAL and foreign keys on a real file', () => {
    const file = path.join(tempDir(), 'mome.sqlite');
    const db = openDatabase(file);
    expect(schemaVersion(db)).toBe(migrations.length);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[];
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['jobs', 'media_roots', 'settings']));
    db.close();
    // re-opening applies nothing twice
    const again = openDatabase(file);
    expect(schemaVersion(again)).toBe(migrations.length);
    again.close();
  });

  it('applies only the migrations that are new, in order', () => {
    const db = openDatabase(path.join(tempDir(), 'a.sqlite'), migrations.slice(0, 1));
    expect(schemaVersion(db)).toBe(1);
    const next = [
      ...migrations,
      { version: migrations.length + 1, name: 'test', sql: 'CREATE TABLE extra (x INTEGER)' },
    ];
    expect(migrate(db, next)).toBe(migrations.length + 1);
    expect(db.prepare(`SELECT count(*) AS n FROM sqlite_master WHERE name = 'extra'`).get()).toEqual({ n: 1 });
  });

  it('refuses a database written by a newer version instead of corrupting it', () => {
    const file = path.join(tempDir(), 'b.sqlite');
    const db = openDatabase(file);
    db.pragma(`user_version = ${migrations.length + 5}`);
    db.close();
    expect(() => openDatabase(file)).toThrow(/newer than this app understands/);
  });

  it('rolls a failing migration back whole', () => {
    const db = openDatabase(path.join(tempDir(), 'c.sqlite'));
    const bad = [
      ...migrations,
      {
        version: migrations.length + 1,
        name: 'bad',
        sql: 'CREATE TABLE half (x INTEGER); INSERT INTO nope VALUES (1);',
      },
    ];
    expect(() => migrate(db, bad)).toThrow();
    expect(schemaVersion(db)).toBe(migrations.length);
    expect(db.prepare(`SELECT count(*) AS n FROM sqlite_master WHERE name = 'half'`).get()).toEqual({ n: 0 });
  });
});
