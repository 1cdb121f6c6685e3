/**
 * The rollout browser: a filter bar over a windowed list of every rollout in the run. Rows come
 * from the extension a page at a time (it reads them by byte offset), so the panel's memory does
 * not grow with the run.
 */
import type { HostMessage, RolloutFilter, RolloutRow, RolloutSort } from '../src/core/protocol/webview';
import { fill, fillHighlighted, fmt, h } from './dom';
import { describeFilter, parseNumberField, withField } from './filters';
import type { Host } from './host';
import { PageCache } from './page-cache';
import * as ui from './ui/index';
import { computeWindow, scrollTopForRow } from './windowing';

export const ROW_HEIGHT = 24;

export interface BrowserCallbacks {
  onSelect(row: RolloutRow): void;
  onStateChange(filter: RolloutFilter, sort: RolloutSort, scrollTop: number): void;
}

export class RolloutBrowser {
  readonly element: HTMLElement;
  private readonly cache = new PageCache(100, 60);
  private readonly scroller: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly rowsEl: HTMLElement;
  private readonly summary: HTMLElement;
  private readonly tagBox: HTMLElement;
  private readonly pool: HTMLElement[] = [];
  private total = 0;
  private selectedId: string | null = null;
  private selectedIndex = -1;
  private frame = 0;
  private queryTimer = 0;
  private liveTimer = 0;
  private restoreScroll: number;
  /** A row chosen by keyboard before its page arrived; selected when it does. */
  private pendingSelect = -1;
  /** The rows shown came from the run file's tail while the index builds; `total` is an estimate until it is done. */
  private counting = false;
  /** The first index build, while it runs (null before the host reports one and once it is done). */
  private progress: { bytes: number; size: number } | null = null;
  private indexDone = false;
  /** Whether the current filter and sort got their first answer (until then a running build is shown as progress). */
  private answered = false;

  constructor(
    private readonly host: Host,
    private filter: RolloutFilter,
    private sort: RolloutSort,
    scrollTop: number,
    private readonly cb: BrowserCallbacks,
  ) {
    this.restoreScroll = scrollTop;
    this.summary = h('span', { class: 'muted', attrs: { 'aria-live': 'polite' }, data: { role: 'summary' } });
    this.tagBox = h('span', { class: 'tag-filter' });
    this.spacer = h('div', { class: 'spacer' });
    this.rowsEl = h('div', { class: 'rows' });
    this.scroller = h(
      'div',
      { class: 'list', attrs: { tabindex: '0', role: 'listbox', 'aria-label': 'Rollouts' } },
      this.spacer,
      this.rowsEl,
    );
    this.scroller.addEventListener('scroll', () => this.schedule(true), { passive: true });
    this.scroller.addEventListener('keydown', (ev) => this.onKey(ev));
    this.scroller.addEventListener('click', (ev) => {
      const rowEl = (ev.target as HTMLElement).closest<HTMLElement>('.row');
      if (rowEl?.dataset.index) this.selectIndex(Number(rowEl.dataset.index));
    });
    new ResizeObserver(() => this.schedule(false)).observe(this.scroller);
    this.element = h(
      'div',
      { class: 'browser' },
      this.filterBar(),
      h('div', { class: 'list-head' }, this.summary, this.header()),
      this.scroller,
    );
  }

  private filterBar(): HTMLElement {
    const num = (key: 'stepMin' | 'stepMax' | 'rewardMin' | 'rewardMax', placeholder: string, integer: boolean) => {
      const f = ui.textField({
        placeholder,
        label: placeholder,
        id: `filter-${key}`,
        value: this.filter[key] === undefined ? '' : String(this.filter[key]),
        onInput: (v) => {
          const r = parseNumberField(v, integer);
          f.element.classList.toggle('invalid', !r.ok);
          f.element.title = r.ok ? '' : r.error;
          if (r.ok) this.setFilter(withField(this.filter, key, r.value));
        },
      });
      f.element.classList.add('num');
      return f.element;
    };
    const tri = (key: 'correct' | 'hasBoxes', label: string, yes: string, no: string) =>
      ui.select(
        [
          { value: '', label },
          { value: 'true', label: yes },
          { value: 'false', label: no },
        ],
        this.filter[key] === undefined ? '' : String(this.filter[key]),
        (v) => this.setFilter(withField(this.filter, key, v === '' ? undefined : v === 'true')),
        { id: `filter-${key}`, label },
      ).element;
    const stream = ui.select(
      [
        { value: '', label: 'both streams' },
        { value: 'grounded', label: 'grounded' },
        { value: 'textual', label: 'textual' },
      ],
      this.filter.stream ?? '',
      (v) => this.setFilter(withField(this.filter, 'stream', v === '' ? undefined : (v as 'grounded' | 'textual'))),
      { id: 'filter-stream', label: 'stream' },
    ).element;
    const sorts = ['step:desc', 'step:asc', 'score:desc', 'score:asc', 'advantage:desc', 'advantage:asc'];
    const sort = ui.select(
      sorts.map((s) => ({ value: s, label: `${s.replace(':', ' ')}` })),
      `${this.sort.key}:${this.sort.dir}`,
      (v) => {
        const [key, dir] = v.split(':') as [RolloutSort['key'], RolloutSort['dir']];
        this.sort = { key, dir };
        this.requery(0);
      },
      { id: 'sort', label: 'sort' },
    ).element;
    const search = ui.textField({
      placeholder: 'search text…',
      label: 'search',
      id: 'filter-text',
      value: this.filter.text ?? '',
      onInput: (v) => this.setFilter(withField(this.filter, 'text', v.trim() === '' ? undefined : v)),
    }).element;
    search.classList.add('search');
    return h(
      'div',
      { class: 'filters' },
      search,
      num('stepMin', 'step ≥', true),
      num('stepMax', 'step ≤', true),
      stream,
      tri('correct', 'any answer', 'correct', 'incorrect'),
      num('rewardMin', 'reward ≥', false),
      num('rewardMax', 'reward ≤', false),
      tri('hasBoxes', 'boxes?', 'has boxes', 'no boxes'),
      this.tagBox,
      sort,
    );
  }

  /** The annotation tag set, offered as tag filters. */
  /** The `ivgr.panel.maxRollouts` setting: rows held in memory at most. */
  setMaxRows(rows: number): void {
    this.cache.setMaxRows(rows);
  }

  setTags(tags: string[]): void {
    const active = new Set(this.filter.tags ?? []);
    fill(
      this.tagBox,
      ...tags.map(
        (t) =>
          ui.checkbox(
            t,
            active.has(t),
            (on) => {
              const next = new Set(this.filter.tags ?? []);
              if (on) next.add(t);
              else next.delete(t);
              this.setFilter(withField(this.filter, 'tags', [...next]));
            },
            { id: `filter-tag-${t}` },
          ).element,
      ),
    );
  }

  private header(): HTMLElement {
    return h(
      'div',
      { class: 'row head', attrs: { 'aria-hidden': 'true' } },
      ...['step', 'str', '', 'reward', 'adv', 'boxes', 'tags', 'question', 'output'].map((c) => h('span', {}, c)),
    );
  }

  private setFilter(filter: RolloutFilter): void {
    this.filter = filter;
    clearTimeout(this.queryTimer);
    this.queryTimer = window.setTimeout(() => this.requery(0), 150);
  }

  /** Starts over with the current filter and sort (first page, fresh cache). */
  requery(scrollTop: number): void {
    this.cache.reset();
    this.answered = false;
    this.counting = false;
    this.updateSummary();
    this.scroller.scrollTop = scrollTop;
    this.restoreScroll = scrollTop;
    this.request(0);
    this.cb.onStateChange(this.filter, this.sort, scrollTop);
    this.schedule(false);
  }

  /** Called when the run grew while live: refresh what is on screen, at most twice a second. */
  liveGrew(): void {
    if (this.liveTimer) return;
    this.liveTimer = window.setTimeout(() => {
      this.liveTimer = 0;
      this.reloadKeepingView();
    }, 500);
  }

  /** Rows whose tags changed: drop every cached page so they show the new tags. */
  annotationsChanged(): void {
    this.reloadKeepingView();
  }

  /**
   * The first index build moved on. Once it is done, a list answered from the file's tail is
   * asked again, keeping scroll position and selection, for the exact total.
   */
  indexProgress(m: Extract<HostMessage, { type: 'indexProgress' }>): void {
    if (m.done) {
      this.progress = null;
      this.indexDone = true;
      if (this.counting) this.reloadKeepingView();
    } else this.progress = { bytes: m.bytes, size: m.size };
    this.updateSummary();
  }

  /** Fetches what is on screen again, keeping the scroll position and the selection. */
  private reloadKeepingView(): void {
    const keep = this.scroller.scrollTop;
    this.cache.reset();
    this.restoreScroll = keep;
    // Page 0 also brings the new total (a tag filter's matches change with annotations).
    this.request(0);
    this.schedule(true);
  }

  private request(page: number): void {
    const generation = this.cache.generation;
    const asked = this.host.request({
      type: 'queryRollouts',
      filter: this.filter,
      sort: this.sort,
      offset: page * this.cache.pageSize,
      limit: this.cache.pageSize,
    });
    // A failed query is reported by the panel's error line.
    asked.reply.then(
      (m) => {
        // An answer to a query the filter, sort or a reload has since replaced.
        if (generation !== this.cache.generation) return;
        this.cache.fill(page, m.rows);
        this.answered = true;
        this.counting = m.counting === true;
        this.setTotal(m.total);
        // The index finished while this tail answer was on its way: ask again for the indexed one.
        if (this.counting && this.indexDone) this.reloadKeepingView();
        const row = this.pendingSelect >= 0 ? this.cache.get(this.pendingSelect) : undefined;
        if (row) {
          this.pendingSelect = -1;
          this.selectedId = row.id;
          this.cb.onSelect(row);
        }
        this.schedule(false);
      },
      () => undefined,
    );
  }

  private setTotal(total: number): void {
    this.total = total;
    this.updateSummary();
    if (this.restoreScroll > 0) {
      // The list must be tall enough before the position can be set back.
      this.spacer.style.height = `${computeWindow(total, ROW_HEIGHT, 0, this.scroller.clientHeight).scrollHeight}px`;
      this.scroller.scrollTop = this.restoreScroll;
      this.restoreScroll = 0;
    }
  }

  private updateSummary(): void {
    const f = describeFilter(this.filter);
    const p = this.progress;
    const pct = p && p.size > 0 ? Math.floor((100 * p.bytes) / p.size) : 0;
    let text: string;
    if (this.counting) text = `counting… rollouts${p ? ` · indexing ${pct} %` : ''}`;
    else if (!this.answered && p) text = `indexing rollouts… ${pct} % (${fmt(p.bytes / 2 ** 20, 0)} / ${fmt(p.size / 2 ** 20, 0)} MiB)`;
    else if (!this.answered) return;
    else text = `${this.total.toLocaleString('en-US')} rollouts${f ? ` · ${f}` : ''}`;
    if (this.summary.textContent !== text) this.summary.textContent = text;
    if (this.counting) {
      delete this.element.dataset.total;
      this.element.dataset.counting = 'true';
    } else if (this.answered) {
      this.element.dataset.total = String(this.total);
      delete this.element.dataset.counting;
    }
  }

  private schedule(fetch: boolean): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render(fetch);
    });
  }

  private render(fetch: boolean): void {
    const viewport = this.scroller.clientHeight;
    const w = computeWindow(this.total, ROW_HEIGHT, this.scroller.scrollTop, viewport);
    this.spacer.style.height = `${w.scrollHeight}px`;
    const n = Math.max(0, w.last - w.first + 1);
    while (this.pool.length < n) {
      const cells = Array.from({ length: 9 }, () => h('span'));
      const el = h('div', { class: 'row', attrs: { role: 'option' } }, ...cells);
      this.pool.push(el);
      this.rowsEl.append(el);
    }
    for (let k = 0; k < this.pool.length; k++) {
      const el = this.pool[k]!;
      if (k >= n) {
        el.hidden = true;
        el.classList.remove('selected');
        continue;
      }
      const index = w.first + k;
      el.hidden = false;
      el.style.transform = `translateY(${w.firstTop + k * ROW_HEIGHT}px)`;
      el.dataset.index = String(index);
      this.paintRow(el, this.cache.get(index), index);
    }
    if (fetch || n > 0) for (const p of this.cache.claimMissing(w.first, w.last)) this.request(p);
    this.cb.onStateChange(this.filter, this.sort, this.scroller.scrollTop);
  }

  private paintRow(el: HTMLElement, row: RolloutRow | undefined, index: number): void {
    const c = el.children as HTMLCollectionOf<HTMLElement>;
    const selected = row !== undefined && row.id === this.selectedId;
    el.classList.toggle('selected', selected);
    el.setAttribute('aria-selected', String(selected));
    if (selected) this.selectedIndex = index;
    if (!row) {
      el.dataset.id = '';
      el.classList.add('loading');
      for (let i = 0; i < c.length; i++) c[i]!.textContent = i === 8 ? 'loading…' : '';
      return;
    }
    el.classList.remove('loading');
    const needle = this.filter.text ?? '';
    if (el.dataset.id === row.id && c[6]!.textContent === row.tags.join(', ') && el.dataset.needle === needle) return;
    el.dataset.id = row.id;
    el.dataset.needle = needle;
    el.dataset.stream = row.stream;
    c[0]!.textContent = String(row.step);
    c[1]!.textContent = row.stream === 'grounded' ? 'G' : 'T';
    c[1]!.className = `stream ${row.stream}`;
    c[2]!.textContent = row.correct ? '✓' : '✗';
    c[2]!.className = row.correct ? 'ok' : 'bad';
    c[3]!.textContent = fmt(row.score, 2);
    c[4]!.textContent = fmt(row.advantage, 2);
    c[5]!.textContent = row.boxes ? String(row.boxes) : '';
    c[6]!.textContent = row.tags.join(', ');
    fillHighlighted(c[7]!, row.question ?? '', needle);
    fillHighlighted(c[8]!, row.preview, needle);
    el.title = `${row.id} · prompt ${row.promptId} · answer ${row.answer ?? '(none)'}`;
  }

  setSelected(id: string | null): void {
    this.selectedId = id;
    this.schedule(false);
  }

  private selectIndex(index: number): void {
    if (index < 0 || index >= this.total) return;
    this.selectedIndex = index;
    const row = this.cache.get(index);
    const viewport = this.scroller.clientHeight;
    const w = computeWindow(this.total, ROW_HEIGHT, this.scroller.scrollTop, viewport, 0);
    // Keep the selection in view: scroll only when it is at or past an edge.
    if (index <= w.first) this.scroller.scrollTop = scrollTopForRow(this.total, ROW_HEIGHT, viewport, index, 'top');
    else if (index >= w.last) this.scroller.scrollTop = scrollTopForRow(this.total, ROW_HEIGHT, viewport, index, 'bottom');
    this.pendingSelect = row ? -1 : index;
    if (row) {
      this.selectedId = row.id;
      this.cb.onSelect(row);
    }
    this.schedule(true);
  }

  private onKey(ev: KeyboardEvent): void {
    const page = Math.max(1, Math.floor(this.scroller.clientHeight / ROW_HEIGHT) - 1);
    const moves: Record<string, number> = { ArrowDown: 1, j: 1, ArrowUp: -1, k: -1, PageDown: page, PageUp: -page };
    if (ev.key in moves) {
      ev.preventDefault();
      const from = this.selectedIndex < 0 ? -1 : this.selectedIndex;
      this.selectIndex(Math.min(this.total - 1, Math.max(0, from + moves[ev.key]!)));
    } else if (ev.key === 'Home') {
      ev.preventDefault();
      this.selectIndex(0);
    } else if (ev.key === 'End') {
      ev.preventDefault();
      this.selectIndex(this.total - 1);
    }
  }
}
