// Field checks shared by the importers: each failure names the field and what was expected.
import { ImportError } from './errors';

export class RecordChecker {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly record: number | string,
  ) {}

  fail(field: string, problem: string, hint = 'Fix this record or re-download the annotation file.'): never {
    throw new ImportError({ file: this.file, line: this.line, record: this.record, field, problem, hint });
  }

  object(value: unknown, field: string): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(field, 'expected an object');
    return value as Record<string, unknown>;
  }

  string(obj: Record<string, unknown>, field: string, maxLength = 10_000): string {
    const v = obj[field];
    if (typeof v !== 'string')
      this.fail(field, v === undefined ? 'the field is missing' : `expected text, got ${typeof v}`);
    if (v.length > maxLength)
      this.fail(field, `the text is ${v.length} characters long (at most ${maxLength} are accepted)`);
    return v;
  }

  integer(obj: Record<string, unknown>, field: string): number {
    const v = obj[field];
    if (typeof v !== 'number' || !Number.isInteger(v))
      this.fail(field, v === undefined ? 'the field is missing' : `expected an integer, got ${JSON.stringify(v)}`);
    return v;
  }

  array(obj: Record<string, unknown>, field: string): unknown[] {
    const v = obj[field];
    if (!Array.isArray(v)) this.fail(field, v === undefined ? 'the field is missing' : 'expected a list');
    return v;
  }

  /** A relative file name that cannot climb out of the dataset root. */
  safeRelative(obj: Record<string, unknown>, field: string): string {
    const v = this.string(obj, field, 1000);
    if (
      v === '' ||
      v.startsWith('/') ||
      v.startsWith('\\') ||
      /^[A-Za-z]:/.test(v) ||
      v.split(/[\\/]/).includes('..') ||
      v.includes('\0')
    ) {
      this.fail(field, `"${v}" is not a plain relative file name`);
    }
    return v;
  }
}
