/**
 * The Runs tab: this run beside the workspace's other runs. Every chart is overlaid across the
 * chosen runs (one colour per run, the charts' smoothing, zoom synced across charts), then the
 * config fields in which the runs differ, then the evaluation tables side by side per checkpoint
 * and mode.
 */
import uPlot from 'uplot';
import type { ComparedRun, HostMessage } from '../src/core/protocol/webview';
import { MAX_COMPARED_RUNS } from '../src/core/protocol/webview';
import { checkpointOrder, configDifferences } from '../src/core/config-diff';
import type { EvalSummaryRow } from '../src/core/types';
import { onThemeChange, readChartTheme } from './chart-theme';
import { fill, h, pct } from './dom';
import { ENGINE_LABEL } from './eval-view';
import type { Host } from './host';
import { applies, CHARTS, fitRange, hasValues, rewardWeights, smooth, type ChartDef } from './metrics-series';
import { stepChartOptions } from './step-chart';
import * as ui from './ui/index';

const DASHES = [undefined, [5, 3], [2, 2], [8, 3, 2, 3], [1, 3]];

/** One chart's columns across runs: the union of their steps, null where a run lacks a step. */
function overlayColumns(def: ChartDef, runs: readonly ComparedRun[], smoothing: number) {
  const steps = [...new Set(runs.flatMap((r) => r.metrics.map((m) => m.step)))].sort((a, b) => a - b);
  const at = new Map(steps.map((s, i) => [s, i]));
  const series: { label: string; run: number; dash: number; values: (number | null)[] }[] = [];
  runs.forEach((run, ri) => {
    const weights = rewardWeights(run.config);
    def.series
      .filter((s) => applies(s, weights))
      .forEach((s, si) => {
        const values: (number | null)[] = steps.map(() => null);
        for (const m of run.metrics) {
          const v = s.pick(m);
          if (v !== undefined && Number.isFinite(v)) values[at.get(m.step)!] = v;
        }
        if (values.some((v) => v !== null))
          series.push({ label: `${run.name ?? run.id} · ${s.label}`, run: ri, dash: si, values: smooth(values, smoothing) });
      });
  });
  return { steps, series };
}

export class RunsCompareView {
  readonly element: HTMLElement;
  private readonly picker: HTMLElement;
  private readonly chartsEl: HTMLElement;
  private readonly configEl: HTMLElement;
  private readonly evalEl: HTMLElement;
  private chosen: string[];
  private runs: ComparedRun[] = [];
  private plots: uPlot[] = [];
  private asked = 0;

  constructor(
    private readonly host: Host,
    private smoothing: number,
    chosen: readonly string[],
    private readonly onChosen: (runs: string[]) => void,
  ) {
    this.chosen = [...chosen];
    this.picker = h('div', { class: 'runs-picker' });
    this.chartsEl = h('div', { class: 'charts runs-charts' });
    this.configEl = h('div', { class: 'runs-config' });
    this.evalEl = h('div', { class: 'runs-evals' });
    this.element = h(
      'div',
      { class: 'runs-compare' },
      this.picker,
      h('h3', {}, 'Charts'),
      this.chartsEl,
      h('h3', {}, 'Config differences'),
      this.configEl,
      h('h3', {}, 'Evaluation'),
      this.evalEl,
    );
    onThemeChange(() => {
      if (this.runs.length > 0) this.drawCharts();
    });
  }

  /** Asks for the runs to compare with (and the list of candidates). */
  show(runs: string[] = this.chosen): void {
    const next = runs.slice(0, MAX_COMPARED_RUNS);
    if (next.join('\u0000') !== this.chosen.join('\u0000')) {
      this.chosen = next;
      this.onChosen(next);
    }
    const id = ++this.asked;
    this.host.request({ type: 'runComparison', runs: this.chosen }).reply.then(
      (m) => {
        if (id === this.asked) this.render(m);
      },
      () => undefined,
    );
  }

  setSmoothing(w: number): void {
    this.smoothing = w;
    if (this.runs.length > 0) this.drawCharts();
  }

  private render(m: Extract<HostMessage, { type: 'comparedRuns' }>): void {
    this.runs = m.runs;
    fill(
      this.picker,
      h('span', { class: 'muted' }, m.candidates.length === 0 ? 'No other run in this workspace.' : 'Compare with '),
      ...m.candidates.map(
        (c) =>
          ui.checkbox(
            c.name ?? c.id,
            this.chosen.includes(c.id),
            (on) => this.show(on ? [...this.chosen, c.id] : this.chosen.filter((x) => x !== c.id)),
            { id: `compare-run-${c.id}` },
          ).element,
      ),
      ...m.runs.filter((r) => r.error).map((r) => h('p', { class: 'bad' }, `${r.name ?? r.id}: ${r.error}`)),
    );
    this.element.dataset.runs = m.runs.map((r) => r.id).join(',');
    this.drawCharts();
    this.drawConfig();
    this.drawEvals();
  }

  private drawCharts(): void {
    for (const p of this.plots) p.destroy();
    this.plots = [];
    this.chartsEl.replaceChildren();
    const theme = readChartTheme();
    const width = Math.max(
      280,
      this.chartsEl.clientWidth >= 900 ? Math.floor(this.chartsEl.clientWidth / 2) - 24 : this.chartsEl.clientWidth - 16,
    );
    for (const def of CHARTS) {
      if (!this.runs.some((r) => hasValues(def, r.metrics))) continue;
      const { steps, series } = overlayColumns(def, this.runs, this.smoothing);
      const box = h('div', { class: 'chart', data: { chart: def.id } }, h('h3', {}, def.title));
      this.chartsEl.append(box);
      const plot = new uPlot(
        stepChartOptions(theme, {
          width,
          height: 200,
          syncKey: 'ivgr-runs',
          range: fitRange,
          lines: series.map((s) => ({
            label: s.label,
            stroke: theme.series[s.run % theme.series.length]!,
            dash: DASHES[s.dash % DASHES.length],
          })),
        }),
        [steps, ...series.map((s) => s.values)] as uPlot.AlignedData,
        box,
      );
      this.plots.push(plot);
    }
  }

  private drawConfig(): void {
    const diffs = configDifferences(this.runs.map((r) => r.config));
    if (diffs.length === 0) {
      fill(this.configEl, h('p', { class: 'muted' }, this.runs.length < 2 ? 'Choose a run to compare with.' : 'The configs are the same.'));
      return;
    }
    fill(
      this.configEl,
      h(
        'table',
        { class: 'config-diff' },
        h('thead', {}, h('tr', {}, h('th', {}, 'field'), ...this.runs.map((r) => h('th', {}, r.name ?? r.id)))),
        h(
          'tbody',
          {},
          ...diffs.map((d) =>
            h('tr', { data: { field: d.field } }, h('td', {}, h('code', {}, d.field)), ...d.values.map((v) => h('td', {}, v))),
          ),
        ),
      ),
    );
  }

  private drawEvals(): void {
    const key = (e: EvalSummaryRow) => `${e.checkpoint}\u0000${e.mode}\u0000${e.engine}\u0000${e.dataset ?? ''}`;
    const rows = new Map<string, EvalSummaryRow>();
    for (const r of this.runs) for (const e of r.evals) if (!rows.has(key(e))) rows.set(key(e), e);
    const ordered = [...rows.values()].sort(
      (a, b) => checkpointOrder(a.checkpoint, b.checkpoint) || a.mode.localeCompare(b.mode) || a.engine.localeCompare(b.engine),
    );
    if (ordered.length === 0) {
      fill(this.evalEl, h('p', { class: 'muted' }, 'No evaluation in these runs.'));
      return;
    }
    const cell = (run: ComparedRun, row: EvalSummaryRow) => {
      const e = run.evals.find((x) => key(x) === key(row));
      if (!e) return h('td', { class: 'muted' }, '–');
      return h(
        'td',
        { title: `n ${e.n} · 95 % CI ${pct(e.ciLow)}–${pct(e.ciHigh)}` },
        pct(e.accuracy),
        e.meanIou === null ? '' : ` · IoU ${e.meanIou.toFixed(2)}`,
      );
    };
    fill(
      this.evalEl,
      h(
        'table',
        { class: 'runs-eval' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', {}, 'checkpoint'),
            h('th', {}, 'mode'),
            h('th', {}, 'engine'),
            ...this.runs.map((r) => h('th', {}, r.name ?? r.id)),
          ),
        ),
        h(
          'tbody',
          {},
          ...ordered.map((row) =>
            h(
              'tr',
              { data: { checkpoint: row.checkpoint, mode: row.mode } },
              h('td', {}, row.checkpoint, row.dataset ? ` · ${row.dataset}` : ''),
              h('td', {}, row.mode),
              h('td', {}, ENGINE_LABEL[row.engine]),
              ...this.runs.map((r) => cell(r, row)),
            ),
          ),
        ),
      ),
    );
  }
}
