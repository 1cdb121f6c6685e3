/**
 * Rows of the rollout browser, fetched from the extension a page at a time and kept in a small
 * LRU, so scrolling a million-rollout run holds a few thousand rows, never the run.
 */
import type { RolloutRow } from '../src/core/protocol/webview';

export class PageCache {
  private readonly pages = new Map<number, RolloutRow[]>();
  private readonly pending = new Set<number>();
  /** Bumped on every reset; answers to requests of an older generation are dropped. */
  generation = 0;

  constructor(
    readonly pageSize = 100,
    private maxPagesHeld = 60,
  ) {}

  get maxPages(): number {
    return this.maxPagesHeld;
  }

  /** Holds at most `rows` rows (whole pages, at least two); the least recently used go first. */
  setMaxRows(rows: number): void {
    this.maxPagesHeld = Math.max(2, Math.floor(rows / this.pageSize));
    this.evict();
  }

  reset(): void {
    this.pages.clear();
    this.pending.clear();
    this.generation++;
  }

  get(index: number): RolloutRow | undefined {
    const page = this.pages.get(Math.floor(index / this.pageSize));
    return page?.[index % this.pageSize];
  }

  /** Pages covering rows `from..to` (inclusive) that are neither loaded nor requested; marks them requested. */
  claimMissing(from: number, to: number): number[] {
    const out: number[] = [];
    if (to < from) return out;
    for (let p = Math.floor(from / this.pageSize); p <= Math.floor(to / this.pageSize); p++) {
      const page = this.pages.get(p);
      if (page) {
        // Touch for LRU order.
        this.pages.delete(p);
        this.pages.set(p, page);
      } else if (!this.pending.has(p)) {
        this.pending.add(p);
        out.push(p);
      }
    }
    return out;
  }

  fill(page: number, rows: RolloutRow[]): void {
    this.pending.delete(page);
    this.pages.set(page, rows);
    this.evict();
  }

  private evict(): void {
    while (this.pages.size > this.maxPagesHeld) {
      const oldest = this.pages.keys().next().value as number;
      this.pages.delete(oldest);
    }
  }

  /** Forgets one page so the next view of it asks again (rows there changed, e.g. new tags). */
  drop(page: number): void {
    this.pages.delete(page);
    this.pending.delete(page);
  }

  get loadedPages(): number {
    return this.pages.size;
  }
}
