/**
 * The evaluation table: one row per checkpoint, one column per mode (textual, mandated grounded,
 * tool-assisted) with accuracy and its confidence interval, mean IoU and hit rate. Clicking a cell
 * lists that cell's samples; clicking a sample opens it.
 */
import type { EvalMode, EvalRecord, EvalSummaryRow } from '../src/core/types';
import { fill, fmt, h, pct } from './dom';
import type { Host } from './host';

const MODES: EvalMode[] = ['textual', 'grounded', 'tool'];
const MODE_LABEL: Record<EvalMode, string> = { textual: 'textual', grounded: 'mandated grounded', tool: 'tool-assisted' };

export class EvalView {
  readonly element: HTMLElement;
  private readonly table: HTMLElement;
  private readonly samples: HTMLElement;
  private rows: EvalSummaryRow[] = [];
  private pending = -1;
  private cell: { checkpoint: string; mode: EvalMode } | null = null;
  private records: EvalRecord[] = [];

  constructor(
    private readonly host: Host,
    private readonly onCell: (cell: { checkpoint: string; mode: EvalMode } | null) => void,
    private readonly onOpen: (record: EvalRecord) => void,
  ) {
    this.table = h('div', { class: 'eval-table' }, h('p', { class: 'muted' }, 'No evaluation yet.'));
    this.samples = h('div', { class: 'eval-samples' });
    this.element = h('div', { class: 'eval' }, this.table, this.samples);
    host.on('evalSamples', (m) => {
      if (m.requestId !== this.pending) return;
      this.records = m.samples;
      this.renderSamples();
    });
  }

  setRows(rows: EvalSummaryRow[]): void {
    this.rows = rows;
    this.renderTable();
  }

  /** Opens a cell's sample list (from a click, or restored state). */
  openCell(cell: { checkpoint: string; mode: EvalMode }): void {
    this.cell = cell;
    this.onCell(cell);
    this.pending = this.host.requestId();
    this.host.post({ type: 'evalSamples', requestId: this.pending, checkpoint: cell.checkpoint, mode: cell.mode });
    fill(this.samples, h('p', { class: 'muted' }, `Loading ${cell.checkpoint} · ${MODE_LABEL[cell.mode]}…`));
    this.renderTable();
  }

  findRecord(id: string): EvalRecord | undefined {
    return this.records.find((r) => r.id === id);
  }

  private renderTable(): void {
    if (this.rows.length === 0) return;
    const checkpoints = [...new Set(this.rows.map((r) => r.checkpoint))];
    const cell = (c: string, m: EvalMode) => {
      const r = this.rows.find((x) => x.checkpoint === c && x.mode === m);
      if (!r) return h('td', { class: 'muted' }, '–');
      const active = this.cell?.checkpoint === c && this.cell.mode === m;
      return h(
        'td',
        {},
        h(
          'button',
          { class: `cell${active ? ' active' : ''}`, data: { checkpoint: c, mode: m }, title: `${r.n} samples (${r.engine}); click to list them`, on: { click: () => this.openCell({ checkpoint: c, mode: m }) } },
          h('span', { class: 'acc' }, pct(r.accuracy)),
          h('span', { class: 'ci muted' }, ` [${pct(r.ciLow)}–${pct(r.ciHigh)}]`),
          h('span', { class: 'sub muted' }, r.meanIou === null ? `n=${r.n}` : `IoU ${fmt(r.meanIou, 2)} · hit ${pct(r.hitRate)} · n=${r.n}`),
        ),
      );
    };
    fill(
      this.table,
      h('table', { class: 'summary' }, h('thead', {}, h('tr', {}, h('th', {}, 'checkpoint'), ...MODES.map((m) => h('th', {}, MODE_LABEL[m])))), h('tbody', {}, ...checkpoints.map((c) => h('tr', {}, h('th', {}, c), ...MODES.map((m) => cell(c, m)))))),
      h('p', { class: 'muted' }, 'Accuracy with a 95% confidence interval; IoU of cited or zoomed boxes against the evidence.'),
    );
  }

  private renderSamples(): void {
    const c = this.cell!;
    const wrong = this.records.filter((r) => !r.correct).length;
    fill(
      this.samples,
      h('h3', {}, `${c.checkpoint} · ${MODE_LABEL[c.mode]} · ${this.records.length} samples, ${wrong} wrong`),
      h(
        'table',
        { class: 'sample-list' },
        h('thead', {}, h('tr', {}, ...['sample', '', 'answer', 'expected', 'IoU', 'tools', 'question'].map((x) => h('th', {}, x)))),
        h(
          'tbody',
          {},
          ...this.records.map((r) =>
            h(
              'tr',
              { data: { id: r.id }, class: 'sample', attrs: { tabindex: '0' }, on: { click: () => this.onOpen(r), keydown: (ev) => ev.key === 'Enter' && this.onOpen(r) } },
              h('td', {}, r.promptId),
              h('td', { class: r.correct ? 'ok' : 'bad' }, r.correct ? '✓' : '✗'),
              h('td', {}, r.answer ?? '(none)'),
              h('td', {}, r.expected),
              h('td', { class: 'num' }, fmt(r.iou, 2)),
              h('td', { class: 'num' }, String(r.toolCalls)),
              h('td', { class: 'question' }, r.question),
            ),
          ),
        ),
      ),
    );
  }
}
