/**
 * Reads a rollout dump as it grows: one JSONL file, or a verl `rollout_data_dir` with one
 * `{step}.jsonl` per step. Each `read()` returns the rows of the complete lines written since the
 * last one (new step files, and lines appended to files already seen); an incomplete last line is
 * left for the next read. A file written anew (verl resumed from a checkpoint trains its steps
 * again) is read again from its start.
 */
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseDumpLine, type DumpFormat, type DumpRow } from './import-dump';

const STEP_FILE = /^(\d+)\.jsonl$/;

interface FileCursor {
  path: string;
  /** The step file's name without .jsonl; absent for a single dump file. */
  source?: string;
  offset: number;
  line: number;
  /** Bytes after the last newline, kept until their line is complete. */
  partial: Buffer;
  /** The last bytes read, before `offset`: different ones there mean the file was written anew (lines of one dump share their start). */
  tail: Buffer;
}

const TAIL_BYTES = 256;

export interface DumpBatch {
  rows: DumpRow[];
  formats: Set<DumpFormat>;
  /** No file had new bytes: everything written so far has been read. */
  caughtUp: boolean;
  /** Incomplete last lines given up on, as `file:line` (a dump cut short mid-write). */
  torn: string[];
  /** Files written anew since the last read, and so read from their start: a step file's name, or null for a single dump file. */
  rewritten: (string | null)[];
}

const emptyBatch = (): DumpBatch => ({ rows: [], formats: new Set(), caughtUp: true, torn: [], rewritten: [] });

export class DumpSource {
  private readonly cursors = new Map<string, FileCursor>();
  readonly isDirectory: boolean;

  /** Throws naming `path` when it is neither a file nor a folder. */
  constructor(readonly path: string) {
    if (!existsSync(path)) throw new Error(`${path}: no such file or folder`);
    this.isDirectory = statSync(path).isDirectory();
  }

  /** The files to read, step files in step order. */
  private files(): { path: string; source?: string }[] {
    if (!this.isDirectory) return [{ path: this.path }];
    return readdirSync(this.path)
      .map((name) => ({ name, m: STEP_FILE.exec(name) }))
      .filter((f): f is { name: string; m: RegExpExecArray } => f.m !== null)
      .sort((a, b) => Number(a.m[1]) - Number(b.m[1]))
      .map((f) => ({ path: join(this.path, f.name), source: f.m[1]! }));
  }

  /**
   * Rows of the lines completed since the last read, from at most `maxFiles` files with new lines
   * (a step at a time keeps a long run's rows out of memory); throws naming the file and line of a
   * bad one. `final`: nothing more will be written, so each file's last line counts without its
   * newline (see `finish`).
   */
  read(maxFiles = Infinity, final = false): DumpBatch {
    const batch = emptyBatch();
    let files = 0;
    for (const f of this.files()) {
      if (files >= maxFiles) break;
      let c = this.cursors.get(f.path);
      if (!c) {
        c = {
          path: f.path,
          ...(f.source !== undefined ? { source: f.source } : {}),
          offset: 0,
          line: 0,
          partial: Buffer.alloc(0),
          tail: Buffer.alloc(0),
        };
        this.cursors.set(f.path, c);
      }
      const read = newLines(c);
      if (read === null) continue;
      const { lines, rewritten } = read;
      if (rewritten) batch.rewritten.push(c.source ?? null);
      batch.caughtUp = false;
      files++;
      for (const text of lines) {
        c.line++;
        if (text.trim() === '') continue;
        addRow(batch, text, c);
      }
      if (final) closeTail(c, batch);
    }
    return batch;
  }

  /**
   * Ends reading: a last line without its newline is a row when it is whole JSON (a file written
   * without a final newline) and torn when it is not.
   */
  finish(): DumpBatch {
    const batch = emptyBatch();
    for (const c of this.cursors.values()) closeTail(c, batch);
    return batch;
  }

  /** Whether the folder has any step file (a directory import needs one to start). */
  hasStepFiles(): boolean {
    return this.files().length > 0;
  }

  get name(): string {
    return basename(this.path);
  }
}

function closeTail(c: FileCursor, batch: DumpBatch): void {
  const text = c.partial.toString('utf8');
  if (text.trim() === '') return;
  c.line++;
  c.partial = Buffer.alloc(0);
  if (isJson(text)) addRow(batch, text, c);
  else batch.torn.push(`${c.path}:${c.line}`);
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function addRow(batch: DumpBatch, text: string, c: FileCursor): void {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch {
    throw new Error(`${c.path}:${c.line}: not valid JSON`);
  }
  const { row, format } = parseDumpLine(obj, c.line, c.path);
  batch.rows.push(c.source !== undefined ? { ...row, source: c.source } : row);
  batch.formats.add(format);
}

/**
 * The complete lines appended to the cursor's file since its offset, from its start when it was
 * written anew (null: no new bytes, or the file is gone); keeps the incomplete tail.
 */
function newLines(c: FileCursor): { lines: string[]; rewritten: boolean } | null {
  let fd: number;
  try {
    fd = openSync(c.path, 'r');
  } catch {
    return null;
  }
  let chunk: Buffer;
  let rewritten = false;
  try {
    const size = fstatSync(fd).size;
    if (size === c.offset) return null;
    if (size < c.offset || !readAt(fd, c.offset - c.tail.length, c.tail.length).equals(c.tail)) {
      Object.assign(c, { offset: 0, line: 0, partial: Buffer.alloc(0), tail: Buffer.alloc(0) });
      rewritten = true;
    }
    chunk = readAt(fd, c.offset, size - c.offset);
  } finally {
    closeSync(fd);
  }
  c.offset += chunk.length;
  c.tail = Buffer.from(Buffer.concat([c.tail, chunk]).subarray(-TAIL_BYTES));
  // Bytes, not characters, wait for their newline: a read may end inside a multi-byte character.
  const bytes = Buffer.concat([c.partial, chunk]);
  const end = bytes.lastIndexOf(0x0a) + 1;
  c.partial = bytes.subarray(end);
  return { lines: end === 0 ? [] : bytes.subarray(0, end).toString('utf8').split('\n').slice(0, -1), rewritten };
}

function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  return buf.subarray(0, readSync(fd, buf, 0, length, position));
}
