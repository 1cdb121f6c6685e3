/**
 * Append-only JSONL writer: one record per line, never rewrites a byte. Lines
 * are buffered in memory and written + fsynced by `flush` (once per step), so a
 * crash loses at most the unflushed step and never a line already written.
 */
import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';

export class JsonlWriter {
  private fd: number;
  private size: number;
  private pending: string[] = [];
  private pendingBytes = 0;

  constructor(readonly file: string) {
    this.fd = openSync(file, 'a');
    this.size = fstatSync(this.fd).size;
    // A torn last line from a crash is closed with a newline so new records start on a clean line;
    // readers skip the fragment with a warning.
    if (this.size > 0 && lastByte(file, this.size) !== 0x0a) {
      writeSync(this.fd, '\n');
      fsyncSync(this.fd);
      this.size += 1;
    }
  }

  /** Queues a record; returns the byte offset its line will have in the file. */
  append(record: object): number {
    const line = JSON.stringify(record) + '\n';
    const offset = this.size + this.pendingBytes;
    this.pending.push(line);
    this.pendingBytes += Buffer.byteLength(line);
    return offset;
  }

  flush(): void {
    if (this.pending.length === 0) return;
    const chunk = this.pending.join('');
    this.pending = [];
    writeSync(this.fd, chunk);
    fsyncSync(this.fd);
    this.size += this.pendingBytes;
    this.pendingBytes = 0;
  }

  /** Bytes written and flushed so far. */
  get bytes(): number {
    return this.size;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

function lastByte(file: string, size: number): number {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, size - 1);
    return b[0]!;
  } finally {
    closeSync(fd);
  }
}
