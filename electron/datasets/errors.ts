// An import error says which file, which record or line, which field, and what to do.
export interface ImportErrorInfo {
  file: string;
  line?: number;
  record?: number | string;
  field?: string;
  problem: string;
  hint: string;
}

export class ImportError extends Error {
  constructor(readonly info: ImportErrorInfo) {
    const where = [
      info.file,
      info.line !== undefined ? `line ${info.line}` : undefined,
      info.record !== undefined ? `record ${info.record}` : undefined,
      info.field ? `field "${info.field}"` : undefined,
    ]
      .filter(Boolean)
      .join(', ');
    super(`${where}: ${info.problem}. ${info.hint}`);
    this.name = 'ImportError';
  }
}
