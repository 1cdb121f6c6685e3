/**
 * Live training charts drawn with uPlot (canvas; hover shows values in the legend). Records are
 * appended as they stream in and the charts redraw at most once per animation frame.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { MetricsRecord } from '../src/core/types';
import { h } from './dom';
import { putLastOfStep } from '../src/core/attempts';
import { onThemeChange, readChartTheme } from './chart-theme';
import { CHARTS, columns, hasValues, smooth, type ChartDef } from './metrics-series';

/** Steps are whole numbers: the x axis never ticks at 1.5. */
const STEP_INCREMENTS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000];

export class ChartsView {
  readonly element: HTMLElement;
  private readonly records: MetricsRecord[] = [];
  private readonly plots: { def: ChartDef; plot: uPlot; box: HTMLElement }[] = [];
  private frame = 0;
  private smoothing: number;

  constructor(smoothing: number) {
    this.smoothing = smoothing;
    this.element = h('div', { class: 'charts' });
    this.empty = h('p', { class: 'muted empty' }, 'No metrics yet: charts fill in as training steps finish.');
    this.element.append(this.empty);
    new ResizeObserver(() => this.resize()).observe(this.element);
    // Canvas colours are fixed when drawn: a theme switch redraws the charts in the new colours.
    onThemeChange(() => this.rebuild());
  }

  private rebuild(): void {
    for (const { plot, box } of this.plots) {
      plot.destroy();
      box.remove();
    }
    this.plots.length = 0;
    this.schedule();
  }

  private readonly empty: HTMLElement;

  get count(): number {
    return this.records.length;
  }

  setSmoothing(w: number): void {
    this.smoothing = w;
    this.schedule();
  }

  add(records: readonly MetricsRecord[], reset = false): void {
    if (reset) this.records.length = 0;
    for (const r of records) putLastOfStep(this.records, r);
    this.schedule();
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private ensurePlots(): void {
    if (this.plots.length > 0 || this.element.clientWidth === 0) return;
    this.empty.remove();
    const theme = readChartTheme();
    const colors = theme.series;
    this.element.dataset.fg = theme.fg;
    for (const def of CHARTS) {
      const box = h('div', { class: 'chart', data: { chart: def.id } }, h('h3', {}, def.title));
      this.element.append(box);
      const axis = { stroke: theme.fg, grid: { stroke: theme.grid, width: 1 }, ticks: { stroke: theme.grid } };
      const opts: uPlot.Options = {
        width: this.chartWidth(),
        height: 180,
        scales: { x: { time: false } },
        axes: [{ ...axis, incrs: STEP_INCREMENTS }, axis],
        cursor: { sync: { key: 'ivgr-steps' } },
        series: [
          { label: 'step' },
          ...def.series.map((s) => ({
            label: s.label,
            stroke: colors[s.color % colors.length],
            width: 1.5,
            dash: s.dash ? [4, 3] : undefined,
            spanGaps: true,
            // uPlot fills points white by default, which glares on a dark theme.
            points: { fill: theme.bg },
          })),
        ],
      };
      const plot = new uPlot(opts, columns(def, []) as uPlot.AlignedData, box);
      this.plots.push({ def, plot, box });
    }
  }

  private chartWidth(): number {
    const w = this.element.clientWidth;
    return Math.max(280, w >= 900 ? Math.floor(w / 2) - 24 : w - 16);
  }

  private draw(): void {
    if (this.records.length === 0) return;
    this.ensurePlots();
    for (const { def, plot, box } of this.plots) {
      box.hidden = !hasValues(def, this.records);
      const [x, ...ys] = columns(def, this.records);
      plot.setData([x!, ...ys.map((y) => smooth(y, this.smoothing))] as uPlot.AlignedData);
    }
  }

  private resize(): void {
    if (this.plots.length === 0) {
      this.schedule();
      return;
    }
    const w = this.chartWidth();
    for (const { plot } of this.plots) plot.setSize({ width: w, height: 180 });
  }
}
