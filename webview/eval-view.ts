/**
 * The evaluation table: one row per checkpoint and engine (and dataset, in a run with several), one column per mode (textual, mandated
 * grounded, tool-assisted) with accuracy and its confidence interval, mean IoU and hit rate. Each
 * cell names the engine that produced it (PyTorch or ONNX Runtime). Clicking a cell lists that
 * cell's samples; clicking a sample opens it.
 */
import type { EvalMode, EvalRecord, EvalSummaryRow } from '../src/core/types';
import { fill, fmt, h, pct } from './dom';
import type { Host, PendingRequest } from './host';

const MODES: EvalMode[] = ['textual', 'grounded', 'tool'];
const MODE_LABEL: Record<EvalMode, string> = { textual: 'textual', grounded: 'mandated grounded', tool: 'tool-assisted' };
type EngineKind = EvalRecord['engine'];
export const ENGINE_LABEL: Record<EngineKind, string> = { torch: 'PyTorch', ort: 'ONNX Runtime' };

export interface EvalCell {
  checkpoint: string;
  mode: EvalMode;
  /** Absent in state saved before engines were told apart: the cell of any engine. */
  engine?: EngineKind;
  /** The row's dataset, null for the rows of every dataset; absent (a run with one dataset, older state): any. */
  dataset?: string | null;
}

/** A small label naming the engine, e.g. on a table row or a sample list. */
export function engineTag(engine: EngineKind): HTMLElement {
  return h(
    'span',
    { class: `engine-tag ${engine}`, data: { engine }, title: `produced by the ${ENGINE_LABEL[engine]} engine` },
    ENGINE_LABEL[engine],
  );
}

/** How the table names the rows of every dataset of a run. */
const ALL = 'all';

/** A row's name: its checkpoint, and its dataset when the table tells datasets apart. */
function cellName(c: { checkpoint: string; dataset?: string | null }): string {
  return c.dataset === undefined ? c.checkpoint : `${c.checkpoint} · ${c.dataset ?? ALL}`;
}

export class EvalView {
  readonly element: HTMLElement;
  private readonly table: HTMLElement;
  private readonly samples: HTMLElement;
  private rows: EvalSummaryRow[] = [];
  private byDataset = false;
  /** The sample list asked for last; an earlier answer is dropped. */
  private pending: PendingRequest<unknown> | null = null;
  private cell: EvalCell | null = null;
  private records: EvalRecord[] = [];

  constructor(
    private readonly host: Host,
    private readonly onCell: (cell: EvalCell | null) => void,
    private readonly onOpen: (record: EvalRecord) => void,
  ) {
    this.table = h('div', { class: 'eval-table' }, h('p', { class: 'muted' }, 'No evaluation yet.'));
    this.samples = h('div', { class: 'eval-samples' });
    this.element = h('div', { class: 'eval' }, this.table, this.samples);
  }

  /** `byDataset`: the run has several datasets, so rows are named by dataset too ("all" for every one). */
  setRows(rows: EvalSummaryRow[], byDataset = false): void {
    this.rows = rows;
    this.byDataset = byDataset;
    this.renderTable();
  }

  /** Opens a cell's sample list (from a click, or restored state). */
  openCell(cell: EvalCell): void {
    this.cell = cell;
    this.onCell(cell);
    this.pending?.forget();
    const asked = this.host.request({
      type: 'evalSamples',
      checkpoint: cell.checkpoint,
      mode: cell.mode,
      ...(cell.engine ? { engine: cell.engine } : {}),
      ...(cell.dataset !== undefined ? { dataset: cell.dataset } : {}),
    });
    this.pending = asked;
    asked.reply.then(
      (m) => {
        this.records = m.samples;
        this.renderSamples();
      },
      () => undefined,
    );
    fill(
      this.samples,
      h(
        'p',
        { class: 'muted' },
        `Loading ${cellName(cell)} · ${MODE_LABEL[cell.mode]}${cell.engine ? ` · ${ENGINE_LABEL[cell.engine]}` : ''}…`,
      ),
    );
    this.renderTable();
  }

  findRecord(id: string): EvalRecord | undefined {
    return this.records.find((r) => r.id === id);
  }

  private renderTable(): void {
    if (this.rows.length === 0) return;
    // One line per checkpoint, engine and dataset, in the order the summary lists them.
    const lines = [
      ...new Map(
        this.rows.map((r) => {
          const line = { checkpoint: r.checkpoint, engine: r.engine, ...(this.byDataset ? { dataset: r.dataset ?? null } : {}) };
          return [JSON.stringify(line), line];
        }),
      ).values(),
    ];
    const cell = (l: (typeof lines)[number], m: EvalMode) => {
      const { checkpoint: c, engine: e } = l;
      const d = l.dataset;
      const r = this.rows.find(
        (x) => x.checkpoint === c && x.mode === m && x.engine === e && (d === undefined || (x.dataset ?? null) === d),
      );
      if (!r) return h('td', { class: 'muted' }, '–');
      const active =
        this.cell?.checkpoint === c &&
        this.cell.mode === m &&
        (this.cell.engine ?? e) === e &&
        (this.cell.dataset === undefined || d === undefined || this.cell.dataset === d);
      return h(
        'td',
        {},
        h(
          'button',
          {
            class: `cell${active ? ' active' : ''}`,
            data: { checkpoint: c, mode: m, engine: e, ...(d !== undefined ? { dataset: d ?? ALL } : {}) },
            title: `${r.n} samples, ${ENGINE_LABEL[e]} engine; click to list them`,
            on: { click: () => this.openCell({ checkpoint: c, mode: m, engine: e, ...(d !== undefined ? { dataset: d } : {}) }) },
          },
          h('span', { class: 'acc' }, pct(r.accuracy)),
          h('span', { class: 'ci muted' }, ` [${pct(r.ciLow)}–${pct(r.ciHigh)}]`),
          h(
            'span',
            { class: 'sub muted' },
            r.meanIou === null ? `n=${r.n}` : `IoU ${fmt(r.meanIou, 2)} · hit ${pct(r.hitRate)} · n=${r.n}`,
          ),
          h('span', { class: 'sub' }, engineTag(e)),
        ),
      );
    };
    fill(
      this.table,
      h(
        'table',
        { class: 'summary' },
        h('thead', {}, h('tr', {}, h('th', {}, 'checkpoint'), ...MODES.map((m) => h('th', {}, MODE_LABEL[m])))),
        h(
          'tbody',
          {},
          ...lines.map((l) =>
            h(
              'tr',
              { data: { checkpoint: l.checkpoint, engine: l.engine, ...(l.dataset !== undefined ? { dataset: l.dataset ?? ALL } : {}) } },
              h('th', {}, cellName(l)),
              ...MODES.map((m) => cell(l, m)),
            ),
          ),
        ),
      ),
      h('p', { class: 'muted' }, 'Accuracy with a 95% confidence interval; IoU of cited or zoomed boxes against the evidence.'),
    );
  }

  private renderSamples(): void {
    const c = this.cell!;
    const wrong = this.records.filter((r) => !r.correct).length;
    const engines = [...new Set(this.records.map((r) => r.engine))];
    fill(
      this.samples,
      h(
        'h3',
        { data: { role: 'eval-samples-title' } },
        `${cellName(c)} · ${MODE_LABEL[c.mode]} · `,
        ...engines.flatMap((e) => [engineTag(e), ' ']),
        `· ${this.records.length} samples, ${wrong} wrong`,
      ),
      h(
        'table',
        { class: 'sample-list' },
        h(
          'thead',
          {},
          h('tr', {}, ...['sample', '', 'answer', 'expected', 'IoU', 'tools', 'engine', 'question'].map((x) => h('th', {}, x))),
        ),
        h(
          'tbody',
          {},
          ...this.records.map((r) =>
            h(
              'tr',
              {
                data: { id: r.id },
                class: 'sample',
                attrs: { tabindex: '0' },
                on: { click: () => this.onOpen(r), keydown: (ev) => ev.key === 'Enter' && this.onOpen(r) },
              },
              h('td', {}, r.promptId),
              h('td', { class: r.correct ? 'ok' : 'bad' }, r.correct ? '✓' : '✗'),
              h('td', {}, r.answer ?? '(none)'),
              h('td', {}, r.expected),
              h('td', { class: 'num' }, fmt(r.iou, 2)),
              h('td', { class: 'num' }, String(r.toolCalls)),
              h('td', { class: 'engine' }, ENGINE_LABEL[r.engine]),
              h('td', { class: 'question' }, r.question),
            ),
          ),
        ),
      ),
    );
  }
}
