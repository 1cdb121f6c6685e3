/**
 * The data service behind the panel's rollout browser: answers page / filter / sort queries over
 * a run's events/rollouts.jsonl from a column index (rollout-index.ts) and reads only the lines a
 * page shows, by byte offset. Annotations (events/annotations.jsonl) are small and held whole,
 * because the tag filter and every row need them. Pure Node: the extension's panel host, the CLI
 * and tests use it alike.
 */
import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AnnotationRecord, RolloutRecord } from '../core/types';
import {
  annotationRecordSchema,
  currentAnnotations,
  rolloutRecordSchema,
  type RolloutFilter,
  type RolloutRow,
  type RolloutSort,
} from '../core/protocol/webview';
import { questionOf, snippet } from '../core/row-text';
import { readRange } from './jsonl-reader';
import { hash32, RolloutIndex, STREAM_NAMES, type IndexProgress } from './rollout-index';
import { readNewestRollouts } from './rollout-tail';

export interface RolloutPage {
  /** Rollouts matching the filter (not just this page). */
  total: number;
  offset: number;
  rows: RolloutRow[];
  /** Set when `total` is an estimate: the page came from the file's tail while the index is still being built. */
  counting?: true;
}

/** Deepest row the tail reader serves; further down waits for the index. */
const MAX_TAIL_ROWS = 10_000;

/** The browser's default view, the one the file's tail can answer: no filter, newest step first. */
function isNewestView(filter: RolloutFilter, sort: RolloutSort): boolean {
  const { text, tags, ...rest } = filter;
  const blank =
    (text === undefined || text.trim() === '') &&
    (tags === undefined || tags.length === 0) &&
    Object.values(rest).every((v) => v === undefined);
  return blank && sort.key === 'step' && sort.dir === 'desc';
}

const PREVIEW_CHARS = 160;

/**
 * The list line for a record (lenient: imported dumps may lack our optional fields). With a search
 * `needle`, question and output previews show the stretch around its first match.
 */
export function toRow(r: Record<string, unknown>, tags: string[], needle?: string): RolloutRow {
  const output = typeof r.output === 'string' ? r.output : '';
  const input = typeof r.input === 'string' ? r.input : '';
  return {
    id: String(r.id),
    step: Number(r.step),
    stream: r.stream === 'textual' ? 'textual' : 'grounded',
    promptId: String(r.promptId),
    sample: typeof r.sample === 'number' ? r.sample : 0,
    score: Number(r.score),
    advantage: typeof r.advantage === 'number' ? r.advantage : 0,
    correct: r.correct === true,
    answer: typeof r.answer === 'string' ? r.answer : null,
    boxes: Array.isArray(r.boxes) ? r.boxes.length : 0,
    preview: snippet(output, needle, PREVIEW_CHARS),
    question: snippet(questionOf(input), needle, PREVIEW_CHARS),
    tags,
  };
}

interface CachedMatch {
  key: string;
  size: number;
  annotationsVersion: number;
  rows: Uint32Array;
}

interface TextMatches {
  needle: string;
  upTo: number;
  hits: Uint8Array;
}

export class RolloutQueryService {
  readonly index: RolloutIndex;
  private readonly annotationsFile: string;
  private annotationRecords: AnnotationRecord[] = [];
  private annotationOffset = 0;
  private annotationsVersion = 0;
  private current = new Map<string, AnnotationRecord>();
  private cache: CachedMatch | null = null;
  private text: TextMatches | null = null;
  private annotationsReading: Promise<void> | null = null;
  /** The records of the last page the tail answered, by id (only until the index is built). */
  private tailRecords = new Map<string, Record<string, unknown>>();
  /** Problems met while reading the run's files (file, byte offset, why). */
  readonly warnings: string[] = [];

  /** `onIndexProgress` follows the first index build (the panel shows it while a filter waits). */
  constructor(
    readonly runDir: string,
    opts: { onIndexProgress?: (p: IndexProgress) => void } = {},
  ) {
    this.index = new RolloutIndex(join(runDir, 'events', 'rollouts.jsonl'), {
      cacheFile: join(runDir, 'cache', 'rollout-index.bin'),
      onCacheWarning: (w) => this.warnings.push(w),
      ...(opts.onIndexProgress ? { onProgress: opts.onIndexProgress } : {}),
    });
    this.annotationsFile = join(runDir, 'events', 'annotations.jsonl');
  }

  /** Picks up appended rollouts and annotations; returns how many rollouts were added. */
  async refresh(): Promise<{ added: number; total: number }> {
    const added = await this.index.refresh();
    await this.refreshAnnotations();
    return { added, total: this.index.liveSize };
  }

  /** Rollouts shown: the last attempt of each step. */
  get total(): number {
    return this.index.liveSize;
  }

  /** True once the first index build is complete (before, only `newestPage` answers without waiting for it). */
  get indexed(): boolean {
    return this.index.built;
  }

  /**
   * The default view's page from the file's tail, while the index is not built yet: the rows equal
   * the indexed answer, the total is an estimate (`counting`) unless the tail reached the file's
   * start. Null for any other view, a deep page, a file out of step order, or once the index is built.
   */
  async newestPage(filter: RolloutFilter, sort: RolloutSort, offset: number, limit: number): Promise<RolloutPage | null> {
    if (this.index.built || !isNewestView(filter, sort) || offset + limit > MAX_TAIL_ROWS) return null;
    await this.refreshAnnotations();
    if (this.index.built) return null;
    const t = readNewestRollouts(this.index.file, offset + limit);
    if (!t) return null;
    const page = t.records.slice(offset);
    // The detail view asks for these by id before the index can find them.
    this.tailRecords = new Map(page.map((r) => [String(r.id), r]));
    const rows = page.map((r) => toRow(r, this.tagsOf(String(r.id))));
    return { total: t.total, offset, rows, ...(t.exact ? {} : { counting: true as const }) };
  }

  /** The annotation that is current per target. */
  annotations(): AnnotationRecord[] {
    return currentAnnotations(this.annotationRecords);
  }

  /** Appends an annotation record (undo is a new record with `deleted: true`); it is validated first. */
  async annotate(record: AnnotationRecord): Promise<void> {
    const r = annotationRecordSchema.safeParse(record);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new Error(`annotation invalid at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'unknown problem'}`);
    }
    await mkdir(join(this.runDir, 'events'), { recursive: true });
    await appendFile(this.annotationsFile, JSON.stringify(r.data) + '\n');
    // A read in flight may have started before the append: let it finish, then read again.
    await this.annotationsReading;
    await this.refreshAnnotations();
  }

  /** Picks up appended annotations only (cheap: the tail answer needs them before the index is built). Concurrent calls share one read. */
  refreshAnnotations(): Promise<void> {
    this.annotationsReading ??= this.readAnnotations().finally(() => {
      this.annotationsReading = null;
    });
    return this.annotationsReading;
  }

  private async readAnnotations(): Promise<void> {
    let changed = false;
    for (;;) {
      let r;
      try {
        r = await readRange<unknown>(this.annotationsFile, this.annotationOffset, 4 << 20);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') break;
        throw e;
      }
      this.warnings.push(...r.warnings);
      for (const line of r.lines) {
        const a = annotationRecordSchema.safeParse(line.record);
        if (a.success) {
          this.annotationRecords.push(a.data);
          changed = true;
        } else {
          this.warnings.push(
            `${this.annotationsFile} @${line.offset}: skipped an annotation: ${a.error.issues[0]?.path.join('.')} ${a.error.issues[0]?.message}`,
          );
        }
      }
      if (r.nextOffset === this.annotationOffset || r.eof) {
        this.annotationOffset = r.nextOffset;
        break;
      }
      this.annotationOffset = r.nextOffset;
    }
    if (changed) {
      this.annotationsVersion++;
      this.current = new Map(
        this.annotations()
          .filter((a) => a.target.kind === 'rollout')
          .map((a) => [a.target.id, a]),
      );
    }
  }

  private tagsOf(id: string): string[] {
    return this.current.get(id)?.tags ?? [];
  }

  /** One page of the rollouts matching `filter`, ordered by `sort` (ties keep file order). */
  async query(filter: RolloutFilter, sort: RolloutSort, offset: number, limit: number): Promise<RolloutPage> {
    const rows = await this.match(filter, sort);
    const page = rows.subarray(Math.min(offset, rows.length), Math.min(offset + limit, rows.length));
    const records = await this.index.read(page);
    return { total: rows.length, offset, rows: records.map((r) => toRow(r, this.tagsOf(String(r.id)), filter.text)) };
  }

  /** The newest `n` rollouts in file order, newest last (for the live strip). */
  async latest(n: number): Promise<RolloutRow[]> {
    const rows: number[] = [];
    for (let i = this.index.size - 1; i >= 0 && rows.length < n; i--) if (this.index.isLive(i)) rows.push(i);
    return (await this.index.read(rows.reverse())).map((r) => toRow(r, this.tagsOf(String(r.id))));
  }

  /** The full record with this id, or null. Throws when the line exists but is not a valid rollout. */
  async get(id: string): Promise<RolloutRecord | null> {
    const fromTail = this.index.built ? undefined : this.tailRecords.get(id);
    if (fromTail) return this.validated(fromTail, 'near the end');
    const h = hash32(id);
    const ids = this.index.columns.idHash;
    for (let i = this.index.size - 1; i >= 0; i--) {
      if (ids[i] !== h) continue;
      const [raw] = await this.index.read([i]);
      if (raw?.id === id) return this.validated(raw, `@${this.index.columns.offset[i]}`);
    }
    return null;
  }

  /** Every rollout of one question, both streams and all steps (their last attempts), in file order. */
  async forPrompt(promptId: string): Promise<RolloutRecord[]> {
    const h = hash32(promptId);
    const p = this.index.columns.promptHash;
    const hits: number[] = [];
    for (let i = 0; i < this.index.size; i++) if (p[i] === h && this.index.isLive(i)) hits.push(i);
    const raws = await this.index.read(hits);
    return raws.flatMap((raw, k) => (raw.promptId === promptId ? [this.validated(raw, `@${this.index.columns.offset[hits[k]!]}`)] : []));
  }

  /** `where`: the line's place in the file, for the error. */
  private validated(raw: Record<string, unknown>, where: string): RolloutRecord {
    const r = rolloutRecordSchema.safeParse(raw);
    if (r.success) return r.data;
    const issue = r.error.issues[0];
    throw new Error(
      `${this.index.file} ${where}: rollout "${String(raw.id)}" invalid at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
    );
  }

  /** Row numbers matching the filter, sorted; the last answer is cached so paging through it is cheap. */
  private async match(filter: RolloutFilter, sort: RolloutSort): Promise<Uint32Array> {
    const key = JSON.stringify([filter, sort]);
    const size = this.index.size;
    const c = this.cache;
    if (c && c.key === key && c.size === size && c.annotationsVersion === this.annotationsVersion) return c.rows;

    const col = this.index.columns;
    const needle = filter.text?.trim().toLowerCase() ?? '';
    const textHits = needle ? await this.textHits(needle, size) : null;
    const tagRows = filter.tags && filter.tags.length > 0 ? await this.rowsWithTags(filter.tags) : null;
    const streamCode = filter.stream === undefined ? -1 : STREAM_NAMES.indexOf(filter.stream);
    const promptHash = filter.promptId === undefined ? null : hash32(filter.promptId);
    const stepMin = filter.stepMin ?? -Infinity;
    const stepMax = filter.stepMax ?? Infinity;
    const rMin = filter.rewardMin ?? -Infinity;
    const rMax = filter.rewardMax ?? Infinity;
    const wantCorrect = filter.correct === undefined ? -1 : filter.correct ? 1 : 0;

    const out = new Uint32Array(size);
    let n = 0;
    for (let i = 0; i < size; i++) {
      if (col.superseded[i] === 1) continue;
      const s = col.step[i]!;
      if (s < stepMin || s > stepMax) continue;
      if (streamCode >= 0 && col.stream[i] !== streamCode) continue;
      if (wantCorrect >= 0 && col.correct[i] !== wantCorrect) continue;
      const score = col.score[i]!;
      // Scores are stored as float32: compare with the bounds rounded the same way.
      if (score < Math.fround(rMin) || score > Math.fround(rMax)) continue;
      if (filter.hasBoxes !== undefined && col.boxes[i]! > 0 !== filter.hasBoxes) continue;
      if (textHits && textHits[i] !== 1) continue;
      if (tagRows && !tagRows.has(i)) continue;
      if (promptHash !== null && col.promptHash[i] !== promptHash) continue;
      out[n++] = i;
    }
    let rows: Uint32Array = out.slice(0, n);
    if (promptHash !== null) rows = await this.confirm(rows, (r) => r.promptId === filter.promptId);
    sortRows(rows, sort, col);
    this.cache = { key, size, annotationsVersion: this.annotationsVersion, rows };
    return rows;
  }

  private async confirm(rows: Uint32Array, keep: (r: Record<string, unknown>) => boolean): Promise<Uint32Array> {
    const raws = await this.index.read(rows);
    return rows.filter((_, k) => keep(raws[k]!));
  }

  /** Rows whose current annotation has any of `tags`, matched by id hash and confirmed by id. */
  private async rowsWithTags(tags: string[]): Promise<Set<number>> {
    const ids = new Set([...this.current.values()].filter((a) => a.tags.some((t) => tags.includes(t))).map((a) => a.target.id));
    const hashes = new Set([...ids].map(hash32));
    const col = this.index.columns.idHash;
    const candidates: number[] = [];
    for (let i = 0; i < this.index.size; i++) if (hashes.has(col[i]!)) candidates.push(i);
    const raws = await this.index.read(candidates);
    return new Set(candidates.filter((_, k) => ids.has(String(raws[k]!.id))));
  }

  /** Marks rows whose searchable fields contain `needle`; extends the previous scan when only new rows arrived. */
  private async textHits(needle: string, size: number): Promise<Uint8Array> {
    let t = this.text;
    if (!t || t.needle !== needle) t = { needle, upTo: 0, hits: new Uint8Array(size) };
    if (t.hits.length < size) {
      const grown = new Uint8Array(size);
      grown.set(t.hits);
      t.hits = grown;
    }
    const hits = t.hits;
    // Quotes, backslashes and control characters are escaped in JSON, so such needles cannot use the raw pre-filter.
    const escaped = [...needle].some((ch) => ch === '"' || ch === '\\' || ch.charCodeAt(0) < 0x20);
    await this.index.scanText(t.upTo, size, (row, line) => {
      // The raw JSON line is a cheap pre-filter; the parsed fields decide (escapes, key names).
      if (!escaped && !line.toLowerCase().includes(needle)) return;
      const r = JSON.parse(line) as Record<string, unknown>;
      const fields = [r.id, r.promptId, r.input, r.output, r.answer];
      if (fields.some((f) => typeof f === 'string' && f.toLowerCase().includes(needle))) hits[row] = 1;
    });
    t.upTo = size;
    this.text = t;
    return hits;
  }
}

function sortRows(rows: Uint32Array, sort: RolloutSort, col: RolloutIndex['columns']): void {
  const sign = sort.dir === 'asc' ? 1 : -1;
  if (sort.key === 'step') {
    // File order is step order for runs the worker wrote; sort anyway for imported dumps.
    const step = col.step;
    rows.sort((a, b) => sign * (step[a]! - step[b]!) || a - b);
    return;
  }
  const v = sort.key === 'score' ? col.score : col.advantage;
  rows.sort((a, b) => sign * (v[a]! - v[b]!) || a - b);
}
