/**
 * A compact column index over events/rollouts.jsonl: for each rollout its byte range in the file
 * plus the few scalars the browser filters and sorts on, in typed arrays (about 40 bytes per
 * rollout, so a million-rollout run indexes in tens of MB while the texts stay on disk). The
 * index grows incrementally: `refresh` reads only bytes appended since the last call. With a
 * cache file, the first refresh starts from the index saved by an earlier open (see
 * rollout-index-cache.ts) and a build saves it again. Rows of an earlier attempt of a replayed step
 * stay in the index, marked superseded (core/attempts.ts); readers skip them.
 */
import { open, stat } from 'node:fs/promises';
import { AttemptTracker } from '../core/attempts';
import { readRange } from './jsonl-reader';
import { allocateColumns, loadIndexCache, saveIndexCache, type IndexColumns } from './rollout-index-cache';

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

export interface IndexedFields {
  id: string;
  step: number;
  stream: 'grounded' | 'textual';
  promptId: string;
  score: number;
  advantage: number;
  correct: boolean;
  boxes: unknown[];
  sample: number;
  time: number;
}

/** The fields the index keeps, or why the record cannot be a row. */
export function indexedFields(r: Record<string, unknown>): IndexedFields | string {
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
    sample: typeof r.sample === 'number' ? r.sample : 0,
    time: typeof r.time === 'number' ? r.time : 0,
  };
}

/** The text of the line starting at `a` (a row's byte range may run over skipped lines after it). */
function firstLine(buf: Buffer, a: number, b: number): string {
  const nl = buf.indexOf(0x0a, a);
  return buf.toString('utf8', a, nl === -1 || nl > b ? b : nl);
}

/** How far the first build got: bytes of the rollouts file read so far of its size. */
export interface IndexProgress {
  bytes: number;
  size: number;
  done: boolean;
}

export interface RolloutIndexOptions {
  /** Where the index is saved after a build and loaded from on the first refresh. */
  cacheFile?: string;
  /** Progress of the first build, at most every 100 ms, then once with `done`. */
  onProgress?: (p: IndexProgress) => void;
  /** Where problems with the cache go (a cache ignored, a save that failed); by default to `warnings`. */
  onCacheWarning?: (w: string) => void;
}

/** Save again once this many bytes were indexed since the last save (and at least an eighth more). */
const RESAVE_BYTES = 4 << 20;

export class RolloutIndex {
  private cols: IndexColumns = allocateColumns(1024);
  private count = 0;
  private live = 0;
  private readonly attempts = new AttemptTracker();
  private scanned = 0;
  private isBuilt = false;
  private cacheChecked = false;
  private savedBytes = 0;
  /** Lines skipped so far, each naming the file, byte offset and reason. Capped to keep memory flat on a bad file. */
  readonly warnings: string[] = [];
  private refreshing: Promise<number> | null = null;

  constructor(
    readonly file: string,
    private readonly options: RolloutIndexOptions = {},
  ) {}

  /** True once the whole file (as it was then) has been indexed; until then only the tail reader can answer. */
  get built(): boolean {
    return this.isBuilt;
  }

  /** Rows indexed, superseded ones included: row numbers run below it. */
  get size(): number {
    return this.count;
  }

  /** Rows of each step's last attempt: what readers show. */
  get liveSize(): number {
    return this.live;
  }

  isLive(row: number): boolean {
    return this.cols.superseded[row] === 0;
  }

  /** Bytes of the file covered by the index (the start of any incomplete last line). */
  get bytesIndexed(): number {
    return this.scanned;
  }

  get columns(): Readonly<IndexColumns> {
    return this.cols;
  }

  /** Indexes lines appended since the last call; returns how many rollouts were added. Concurrent calls share one scan. */
  refresh(): Promise<number> {
    this.refreshing ??= this.scan().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  /** Rows added since the last call, counting those a cache brought on the first one. */
  private async scan(): Promise<number> {
    const before = this.count;
    if (!this.cacheChecked) {
      this.cacheChecked = true;
      await this.loadCache();
    }
    await this.scanFrom();
    if (!this.isBuilt) {
      this.isBuilt = true;
      this.options.onProgress?.({ bytes: this.scanned, size: Math.max(this.scanned, await this.fileSize()), done: true });
    }
    await this.saveCache();
    return this.count - before;
  }

  private async fileSize(): Promise<number> {
    try {
      return (await stat(this.file)).size;
    } catch {
      return 0;
    }
  }

  private async loadCache(): Promise<void> {
    const cacheFile = this.options.cacheFile;
    if (!cacheFile) return;
    const r = await loadIndexCache(cacheFile, this.file, this.cols.offset.length);
    if (!r.ok) {
      if (r.reason !== 'none')
        this.cacheWarn(`${cacheFile}: ignored the rollout index cache (${r.reason}); rebuilding it from ${this.file}`);
      return;
    }
    this.cols = r.index.columns;
    this.count = r.index.count;
    this.scanned = r.index.bytesIndexed;
    this.savedBytes = this.scanned;
    await this.resumeAttempts();
  }

  /** Picks up attempt tracking where the saved rows end: their steps and the first row of the last attempt. */
  private async resumeAttempts(): Promise<void> {
    const c = this.cols;
    const steps = new Set<number>();
    this.live = 0;
    for (let i = 0; i < this.count; i++) {
      steps.add(c.step[i]!);
      if (c.superseded[i] === 0) this.live++;
    }
    let first = this.count - 1;
    while (first > 0 && c.step[first - 1] === c.step[first] && c.superseded[first - 1] === 0) first--;
    const [start] = first >= 0 ? await this.read([first]) : [];
    const f = start ? indexedFields(start) : null;
    this.attempts.resume(steps, f && typeof f !== 'string' ? f : null);
  }

  /** Saves after the first build and then after substantial growth; a run folder that cannot be written only costs a warning. */
  private async saveCache(): Promise<void> {
    const cacheFile = this.options.cacheFile;
    const grown = this.scanned - this.savedBytes;
    if (!cacheFile || this.count === 0 || grown <= 0) return;
    if (this.savedBytes > 0 && (grown < RESAVE_BYTES || grown < this.savedBytes / 8)) return;
    try {
      await saveIndexCache(cacheFile, this.file, { columns: this.cols, count: this.count, bytesIndexed: this.scanned });
      this.savedBytes = this.scanned;
    } catch (e) {
      this.savedBytes = this.scanned;
      this.cacheWarn(`${cacheFile}: could not save the rollout index cache: ${(e as Error).message}`);
    }
  }

  private async scanFrom(): Promise<void> {
    const size = this.isBuilt ? 0 : await this.fileSize();
    let reported = 0;
    if (!this.isBuilt) this.options.onProgress?.({ bytes: this.scanned, size: Math.max(size, this.scanned), done: false });
    for (;;) {
      let r;
      try {
        // Small windows keep each synchronous parse short, so requests are answered between them.
        r = await readRange<Record<string, unknown>>(this.file, this.scanned, 2 << 20);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
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
      if (r.nextOffset === this.scanned) return;
      this.scanned = r.nextOffset;
      if (r.eof) return;
      if (!this.isBuilt && performance.now() - reported >= 100) {
        reported = performance.now();
        this.options.onProgress?.({ bytes: this.scanned, size: Math.max(size, this.scanned), done: false });
      }
    }
  }

  private cacheWarn(w: string): void {
    if (this.options.onCacheWarning) this.options.onCacheWarning(w);
    else this.warn(w);
  }

  private warn(w: string): void {
    if (this.warnings.length < 1000) this.warnings.push(w);
  }

  private push(offset: number, length: number, f: IndexedFields): void {
    if (this.attempts.next(f)) this.supersede(f.step);
    if (this.count === this.cols.offset.length) this.grow();
    const c = this.cols;
    const i = this.count++;
    this.live++;
    c.superseded[i] = 0;
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

  /** Marks the rows of `step` indexed so far as an earlier attempt. */
  private supersede(step: number): void {
    const c = this.cols;
    for (let i = 0; i < this.count; i++) {
      if (c.step[i] === step && c.superseded[i] === 0) {
        c.superseded[i] = 1;
        this.live--;
      }
    }
  }

  private grow(): void {
    const next = allocateColumns(this.cols.offset.length * 2);
    for (const k of Object.keys(next) as (keyof IndexColumns)[]) next[k].set(this.cols[k] as never);
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
