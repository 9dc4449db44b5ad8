// The last lines of a child process's log, saved now and then (not on every line: a trainer can print
// hundreds of lines a second) and once more at the end.
const KEEP_LINES = 200;
const SAVE_EVERY_MS = 1000;

export class LogTail {
  private lines: string[] = [];
  private lastSave = 0;

  constructor(private readonly save: (text: string) => void) {}

  add(line: string): void {
    if (!line.trim()) return;
    this.lines.push(line.length > 2000 ? `${line.slice(0, 2000)}…` : line);
    if (this.lines.length > KEEP_LINES) this.lines.splice(0, this.lines.length - KEEP_LINES);
    if (Date.now() - this.lastSave >= SAVE_EVERY_MS) this.flush();
  }

  flush(): void {
    this.lastSave = Date.now();
    this.save(this.lines.join('\n'));
  }

  last(): string | undefined {
    return this.lines.at(-1);
  }
}
