/**
 * Terminal progress: a redrawn bar on a TTY, plain lines otherwise (logs, CI,
 * pipes), at most one plain line per step so logs stay readable.
 */
export class Progress {
  private lastPlain = '';
  private barShown = false;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly tty = Boolean(process.stderr.isTTY),
  ) {}

  update(label: string, done: number, total: number, detail = ''): void {
    if (this.tty) {
      const width = 24;
      const filled = total > 0 ? Math.round((done / total) * width) : 0;
      const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
      this.stream.write(`\r\x1b[2K${label} [${bar}] ${done}/${total} ${detail}`);
      this.barShown = true;
      return;
    }
    const line = `${label} ${done}/${total}${detail ? ` ${detail}` : ''}`;
    if (line !== this.lastPlain) this.stream.write(line + '\n');
    this.lastPlain = line;
  }

  /** A message line that does not disturb the bar. */
  line(text: string): void {
    if (this.barShown) this.stream.write('\r\x1b[2K');
    this.stream.write(text + '\n');
    this.barShown = false;
  }

  done(): void {
    if (this.barShown) this.stream.write('\n');
    this.barShown = false;
  }
}
