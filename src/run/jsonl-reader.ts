/**
 * The one JSONL reader of the run folder, by byte offset, so a multi-GB event file opens at once:
 * `readRange` reads a window of complete lines, `readRecords` streams a file through it keeping
 * only the records asked for, `LineIndex` learns line offsets incrementally as the file grows,
 * `tailLines` / `lastRecord` read a file's end. A torn line (a crash mid-write) is skipped with a
 * warning; an incomplete last line is left for the next read because the writer may still be
 * writing it.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';

export interface JsonlLine<T = unknown> {
  offset: number;
  record: T;
}

export interface RangeResult<T = unknown> {
  lines: JsonlLine<T>[];
  /** Where the next read should start: just past the last complete line read. */
  nextOffset: number;
  /** Lines that are not JSON objects: file, byte offset and why. */
  warnings: string[];
  /** True when nextOffset is the end of the file (nothing but a possibly torn tail remains). */
  eof: boolean;
  /** Bytes after nextOffset that do not end with a newline yet (torn or still being written). */
  tailBytes: number;
}

/**
 * Reads complete lines starting at `offset` (a line start), about `maxBytes` of them (at least one
 * line). A missing file reads as empty when `missingOk` (an event file not written yet).
 */
export async function readRange<T = unknown>(file: string, offset: number, maxBytes = 1 << 20, missingOk = false): Promise<RangeResult<T>> {
  const fh = await open(file, 'r').catch((err: NodeJS.ErrnoException) => {
    if (missingOk && err.code === 'ENOENT') return null;
    throw err;
  });
  if (!fh) return { lines: [], nextOffset: offset, warnings: [], eof: true, tailBytes: 0 };
  try {
    const size = (await fh.stat()).size;
    let end = Math.min(size, offset + Math.max(1, maxBytes));
    let data = Buffer.alloc(0);
    let lastNl = -1;
    // Grow the window until it holds one complete line or reaches the end of the file.
    for (;;) {
      const buf = Buffer.alloc(Math.max(0, end - offset - data.length));
      if (buf.length > 0) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, offset + data.length);
        data = Buffer.concat([data, buf.subarray(0, bytesRead)]);
      }
      lastNl = data.lastIndexOf(0x0a);
      if (lastNl !== -1 || end >= size) break;
      end = Math.min(size, offset + Math.max(2 * (end - offset), 64 * 1024));
    }
    const lines: JsonlLine<T>[] = [];
    const warnings: string[] = [];
    let start = 0;
    while (start <= lastNl) {
      const nl = data.indexOf(0x0a, start);
      parseInto(data.subarray(start, nl), offset + start, file, lines, warnings);
      start = nl + 1;
    }
    const nextOffset = offset + start;
    const eof = end >= size;
    return { lines, nextOffset, warnings, eof, tailBytes: eof ? size - nextOffset : 0 };
  } finally {
    await fh.close();
  }
}

function parseInto<T>(bytes: Buffer, offset: number, file: string, lines: JsonlLine<T>[], warnings: string[]): void {
  const text = bytes.toString('utf8').trim();
  if (text.length === 0) return;
  try {
    const record: unknown = JSON.parse(text);
    if (record && typeof record === 'object' && !Array.isArray(record)) lines.push({ offset, record: record as T });
    else warnings.push(`${file} @${offset}: skipped a line that is not a JSON object`);
  } catch {
    warnings.push(`${file} @${offset}: skipped a torn or invalid line (${bytes.length} bytes)`);
  }
}

/** Reads every complete record of a file; a torn last line is reported in `warnings`. */
export async function readAll<T = unknown>(file: string): Promise<{ records: T[]; warnings: string[] }> {
  const records: T[] = [];
  const warnings: string[] = [];
  let offset = 0;
  for (;;) {
    const r = await readRange<T>(file, offset, 8 << 20);
    for (const l of r.lines) records.push(l.record);
    warnings.push(...r.warnings);
    offset = r.nextOffset;
    if (r.eof) {
      if (r.tailBytes > 0) warnings.push(`${file} @${offset}: skipped a torn last line (${r.tailBytes} bytes without a newline)`);
      return { records, warnings };
    }
  }
}

/** The records of `file` that `parse` accepts and `keep` wants; a missing file has none. Checks `signal` before each chunk. */
export async function readRecords<T>(
  file: string,
  parse: (r: Record<string, unknown>) => T | null,
  keep: (r: T) => boolean,
  signal?: AbortSignal,
): Promise<T[]> {
  const out: T[] = [];
  let offset = 0;
  for (;;) {
    signal?.throwIfAborted();
    const chunk = await readRange<Record<string, unknown>>(file, offset, 8 << 20, true);
    for (const l of chunk.lines) {
      const r = parse(l.record);
      if (r !== null && keep(r)) out.push(r);
    }
    if (chunk.nextOffset === offset || chunk.eof) return out;
    offset = chunk.nextOffset;
  }
}

/** A `parse` for readRecords: the record as `schema` reads it, or null when it does not fit. */
export const parser =
  <T>(schema: { safeParse: (v: unknown) => { success: true; data: T } | { success: false } }) =>
  (r: unknown): T | null => {
    const p = schema.safeParse(r);
    return p.success ? p.data : null;
  };

export const all = (): boolean => true;

/** The last complete JSON object of a JSONL file, or null. Reads only the file's tail. */
export async function lastRecord(file: string): Promise<Record<string, unknown> | null> {
  const lines = await tailLines(file, 2);
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const r: unknown = JSON.parse(lines[i] ?? '');
      if (r !== null && typeof r === 'object' && !Array.isArray(r)) return r as Record<string, unknown>;
    } catch {
      // a torn last line; the one before it is the latest complete record
    }
  }
  return null;
}

/** The last `n` non-empty lines of a text file (empty when it does not exist). */
export async function tailLines(file: string, n: number, maxBytes = 64 << 10): Promise<string[]> {
  const fh = await open(file, 'r').catch(() => null);
  if (!fh) return [];
  try {
    const size = (await fh.stat()).size;
    const length = Math.min(size, maxBytes);
    const buf = Buffer.alloc(length);
    await fh.read(buf, 0, length, size - length);
    const lines = buf
      .toString('utf8')
      .split('\n')
      .filter((l) => l.trim() !== '');
    // When the window starts mid-file its first line is partial.
    if (length < size) lines.shift();
    return lines.slice(-n);
  } finally {
    await fh.close();
  }
}

/**
 * Byte offsets of the lines of a growing file, learned incrementally: `refresh`
 * scans only the bytes appended since the last call.
 */
export class LineIndex {
  private offsets: number[] = [];
  private scanned = 0;

  constructor(readonly file: string) {}

  /** Scans new bytes; returns the number of complete lines known. */
  refresh(): number {
    let fd: number;
    try {
      fd = openSync(this.file, 'r');
    } catch {
      return this.offsets.length;
    }
    try {
      const size = fstatSync(fd).size;
      const buf = Buffer.alloc(1 << 20);
      let lineStart = this.scanned;
      let pos = this.scanned;
      while (pos < size) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, size - pos), pos);
        if (n === 0) break;
        let i = buf.indexOf(0x0a, 0);
        while (i !== -1 && i < n) {
          this.offsets.push(lineStart);
          lineStart = pos + i + 1;
          i = buf.indexOf(0x0a, i + 1);
        }
        pos += n;
      }
      this.scanned = lineStart;
      return this.offsets.length;
    } finally {
      closeSync(fd);
    }
  }

  get count(): number {
    return this.offsets.length;
  }

  /** Byte offset of line `i` (0-based), or undefined past the known lines. */
  offsetOf(i: number): number | undefined {
    return this.offsets[i];
  }

  /** Reads `n` complete lines starting at line `i`. */
  async lines<T = unknown>(i: number, n: number): Promise<RangeResult<T>> {
    const start = this.offsets[i];
    if (start === undefined) return { lines: [], nextOffset: this.scanned, warnings: [], eof: true, tailBytes: 0 };
    const end = i + n < this.offsets.length ? this.offsets[i + n]! : this.scanned;
    return readRange<T>(this.file, start, Math.max(1, end - start));
  }
}
