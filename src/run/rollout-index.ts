/**
 * A compact column index over events/rollouts.jsonl: for each rollout its byte range in the file
 * plus the few scalars the browser filters and sorts on, in typed arrays (about 40 bytes per
 * rollout, so a million-rollout run indexes in tens of MB while the texts stay on disk). The
 * index grows incrementally: `refresh` reads only bytes appended since the last call.
 */
import { open } from 'node:fs/promises';
import { readRange } from './jsonl-reader';

const STREAM_CODE = { grounded: 0, textual: 1 } as const;
export const STREAM_NAMES = ['grounded', 'textual'] as const;

/** 32-bit FNV-1a; ids are matched by hash first and confirmed against the record. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

interface Columns {
  offset: Float64Array;
  length: Uint32Array;
  step: Int32Array;
  stream: Uint8Array;
  correct: Uint8Array;
  boxes: Uint16Array;
  score: Float32Array;
  advantage: Float32Array;
  idHash: Uint32Array;
  promptHash: Uint32Array;
}

function allocate(n: number): Columns {
  return {
    offset: new Float64Array(n),
    length: new Uint32Array(n),
    step: new Int32Array(n),
    stream: new Uint8Array(n),
    correct: new Uint8Array(n),
    boxes: new Uint16Array(n),
    score: new Float32Array(n),
    advantage: new Float32Array(n),
    idHash: new Uint32Array(n),
    promptHash: new Uint32Array(n),
  };
}

interface IndexedFields {
  id: string;
  step: number;
  stream: 'grounded' | 'textual';
  promptId: string;
  score: number;
  advantage: number;
  correct: boolean;
  boxes: unknown[];
}

function indexedFields(r: Record<string, unknown>): IndexedFields | string {
  if (typeof r.id !== 'string') return 'field "id" must be a string';
  if (typeof r.step !== 'number') return 'field "step" must be a number';
  if (r.stream !== 'grounded' && r.stream !== 'textual') return 'field "stream" must be "grounded" or "textual"';
  if (typeof r.promptId !== 'string') return 'field "promptId" must be a string';
  if (typeof r.score !== 'number') return 'field "score" must be a number';
  return {
    id: r.id,
    step: r.step,
    stream: r.stream,
    promptId: r.promptId,
    score: r.score,
    advantage: typeof r.advantage === 'number' ? r.advantage : 0,
    correct: r.correct === true,
    boxes: Array.isArray(r.boxes) ? r.boxes : [],
  };
}

/** The text of the line starting at `a` (a row's byte range may run over skipped lines after it). */
function firstLine(buf: Buffer, a: number, b: number): string {
  const nl = buf.indexOf(0x0a, a);
  return buf.toString('utf8', a, nl === -1 || nl > b ? b : nl);
}

export class RolloutIndex {
  private cols: Columns = allocate(1024);
  private count = 0;
  private scanned = 0;
  /** Lines skipped so far, each naming the file, byte offset and reason. Capped to keep memory flat on a bad file. */
  readonly warnings: string[] = [];
  private refreshing: Promise<number> | null = null;

  constructor(readonly file: string) {}

  get size(): number {
    return this.count;
  }

  /** Bytes of the file covered by the index (the start of any incomplete last line). */
  get bytesIndexed(): number {
    return this.scanned;
  }

  get columns(): Readonly<Columns> {
    return this.cols;
  }

  /** Indexes lines appended since the last call; returns how many rollouts were added. Concurrent calls share one scan. */
  refresh(): Promise<number> {
    this.refreshing ??= this.scan().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async scan(): Promise<number> {
    const before = this.count;
    for (;;) {
      let r;
      try {
        r = await readRange<Record<string, unknown>>(this.file, this.scanned, 8 << 20);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
        throw e;
      }
      for (const w of r.warnings) this.warn(w);
      const lines = r.lines;
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i]!;
        const end = i + 1 < lines.length ? lines[i + 1]!.offset : r.nextOffset;
        const f = indexedFields(line.record);
        if (typeof f === 'string') this.warn(`${this.file} @${line.offset}: skipped a rollout: ${f}`);
        else this.push(line.offset, end - line.offset, f);
      }
      if (r.nextOffset === this.scanned) return this.count - before;
      this.scanned = r.nextOffset;
      if (r.eof) return this.count - before;
    }
  }

  private warn(w: string): void {
    if (this.warnings.length < 1000) this.warnings.push(w);
  }

  private push(offset: number, length: number, f: IndexedFields): void {
    if (this.count === this.cols.offset.length) this.grow();
    const c = this.cols;
    const i = this.count++;
    c.offset[i] = offset;
    c.length[i] = length;
    c.step[i] = f.step;
    c.stream[i] = STREAM_CODE[f.stream];
    c.correct[i] = f.correct ? 1 : 0;
    c.boxes[i] = Math.min(f.boxes.length, 0xffff);
    c.score[i] = f.score;
    c.advantage[i] = f.advantage;
    c.idHash[i] = hash32(f.id);
    c.promptHash[i] = hash32(f.promptId);
  }

  private grow(): void {
    const next = allocate(this.cols.offset.length * 2);
    for (const k of Object.keys(next) as (keyof Columns)[]) next[k].set(this.cols[k] as never);
    this.cols = next;
  }

  /** Reads and parses the records of the given rows, in the order given. */
  async read(rows: ArrayLike<number>): Promise<Record<string, unknown>[]> {
    if (rows.length === 0) return [];
    const fh = await open(this.file, 'r');
    try {
      const out: Record<string, unknown>[] = [];
      for (let k = 0; k < rows.length; k++) {
        const i = rows[k]!;
        const buf = Buffer.alloc(this.cols.length[i]!);
        await fh.read(buf, 0, buf.length, this.cols.offset[i]!);
        out.push(JSON.parse(firstLine(buf, 0, buf.length)) as Record<string, unknown>);
      }
      return out;
    } finally {
      await fh.close();
    }
  }

  /**
   * Calls `visit(row, line)` with the raw JSON text of rows `from..to-1`, reading the file in large
   * sequential chunks (text search scans the whole run this way without parsing every line).
   */
  async scanText(from: number, to: number, visit: (row: number, line: string) => void): Promise<void> {
    if (from >= to) return;
    const fh = await open(this.file, 'r');
    try {
      const c = this.cols;
      let i = from;
      while (i < to) {
        const start = c.offset[i]!;
        let j = i;
        while (j < to && c.offset[j]! + c.length[j]! - start <= 8 << 20) j++;
        if (j === i) j = i + 1;
        const end = c.offset[j - 1]! + c.length[j - 1]!;
        const buf = Buffer.alloc(end - start);
        await fh.read(buf, 0, buf.length, start);
        for (let k = i; k < j; k++) {
          const a = c.offset[k]! - start;
          visit(k, firstLine(buf, a, a + c.length[k]!));
        }
        i = j;
      }
    } finally {
      await fh.close();
    }
  }
}
