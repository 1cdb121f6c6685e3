/**
 * Live training charts drawn with uPlot (canvas; hover shows values in the legend). Records are
 * appended as they stream in and the charts redraw at most once per animation frame. Behind each
 * smoothed line its raw values are drawn faintly. Series that cannot apply to the run
 * (see `applies`) are left out unless "all series" is ticked; a chart exports as PNG or CSV.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { MetricsRecord, RewardTerm } from '../src/core/types';
import { h } from './dom';
import { putLastOfStep } from '../src/core/attempts';
import { canvasPng, saveExport } from './chart-export';
import { onThemeChange, readChartTheme, type ChartTheme } from './chart-theme';
import type { Host } from './host';
import { applies, CHARTS, columns, fitRange, hasValues, seriesCsv, smooth, type ChartDef, type SeriesDef } from './metrics-series';
import { stepChartOptions } from './step-chart';
import * as ui from './ui/index';

/** Opacity of the raw line behind a smoothed one. */
const RAW_ALPHA = 0.25;

interface Plot {
  def: ChartDef;
  series: SeriesDef[];
  plot: uPlot;
  box: HTMLElement;
  /** The unsmoothed values per series, drawn faintly behind the smoothed lines. */
  raw: (number | null)[][];
  /** Lowest and highest raw value of the shown series. */
  extent: [number | null, number | null];
}

const lowest = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.min(a, b));
const highest = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.max(a, b));

/** Draws each shown series' raw values as a thin line inside the plot area. */
function drawRaw(u: uPlot, raw: readonly (number | null)[][], colours: readonly string[]): void {
  const x = u.data[0];
  const ctx = u.ctx;
  ctx.save();
  ctx.beginPath();
  ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
  ctx.clip();
  ctx.lineWidth = Math.max(1, devicePixelRatio);
  raw.forEach((ys, k) => {
    if (!u.series[k + 1]?.show) return;
    ctx.strokeStyle = colours[k]!;
    ctx.beginPath();
    let pen = false;
    ys.forEach((y, i) => {
      if (y === null) return;
      const px = u.valToPos(x[i]!, 'x', true);
      const py = u.valToPos(y, 'y', true);
      if (pen) ctx.lineTo(px, py);
      else ctx.moveTo(px, py);
      pen = true;
    });
    ctx.stroke();
  });
  ctx.restore();
}

function withAlpha(rgba: string, alpha: number): string {
  return rgba.replace(/,\s*[\d.]+\)$/, `, ${alpha})`);
}

export class ChartsView {
  readonly element: HTMLElement;
  /** The "all series" toggle and the export note, for the chart tools line. */
  readonly tools: HTMLElement;
  private readonly records: MetricsRecord[] = [];
  private readonly plots: Plot[] = [];
  private readonly empty: HTMLElement;
  private readonly note: HTMLElement;
  private frame = 0;
  private smoothing: number;
  private weights: Partial<Record<RewardTerm, number>> = {};
  private showAll = false;
  private theme: ChartTheme | null = null;
  /** Name the exports start with (the run id). */
  private runName = 'run';

  constructor(
    private readonly host: Host,
    smoothing: number,
  ) {
    this.smoothing = smoothing;
    this.element = h('div', { class: 'charts' });
    this.empty = h('p', { class: 'muted empty' }, 'No metrics yet: charts fill in as training steps finish.');
    this.element.append(this.empty);
    this.note = h('span', { class: 'muted', attrs: { 'aria-live': 'polite' }, data: { role: 'export-note' } });
    const all = ui.checkbox(
      'all series',
      false,
      (on) => {
        this.showAll = on;
        this.rebuild();
      },
      { id: 'show-all-series' },
    );
    all.element.title =
      'Also draw the series that cannot apply to this run (grounding on the textual stream, consistency on the grounded one, terms weighted 0)';
    this.tools = h('span', { class: 'chart-options' }, all.element, this.note);
    new ResizeObserver(() => this.resize()).observe(this.element);
    // Canvas colours are fixed when drawn: a theme switch redraws the charts in the new colours.
    onThemeChange(() => this.rebuild());
  }

  get count(): number {
    return this.records.length;
  }

  get all(): readonly MetricsRecord[] {
    return this.records;
  }

  /** The run's config decides which reward terms count (weight 0 terms are hidden by default). */
  setRun(name: string, weights: Partial<Record<RewardTerm, number>>): void {
    this.runName = name.replace(/[^\w.-]+/g, '_').slice(0, 60) || 'run';
    if (JSON.stringify(weights) === JSON.stringify(this.weights)) return;
    this.weights = weights;
    this.rebuild();
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

  private rebuild(): void {
    for (const { plot, box } of this.plots) {
      plot.destroy();
      box.remove();
    }
    this.plots.length = 0;
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
    this.theme = theme;
    this.element.dataset.fg = theme.fg;
    for (const def of CHARTS) {
      const series = def.series.filter((s) => this.showAll || applies(s, this.weights));
      const png = ui.button('PNG', () => void this.exportPng(def.id), { secondary: true, title: `Save ${def.title} as a PNG image` });
      const csv = ui.button('CSV', () => void this.exportCsv(def.id), { secondary: true, title: `Save ${def.title}'s values as CSV` });
      png.dataset.export = 'png';
      csv.dataset.export = 'csv';
      const box = h(
        'div',
        { class: 'chart', data: { chart: def.id } },
        h('h3', {}, def.title, h('span', { class: 'chart-export' }, png, csv)),
      );
      this.element.append(box);
      const colour = (s: SeriesDef) => theme.series[s.color % theme.series.length]!;
      const entry: Plot = { def, series, plot: null as unknown as uPlot, box, raw: [], extent: [null, null] };
      const opts: uPlot.Options = {
        ...stepChartOptions(theme, {
          width: this.chartWidth(),
          height: 180,
          syncKey: 'ivgr-steps',
          // The range covers the raw values too, so the faint line is never clipped.
          range: (min, max) => fitRange(lowest(min, entry.extent[0]), highest(max, entry.extent[1])),
          lines: series.map((s) => ({ label: s.label, stroke: colour(s), dash: s.dash ? [4, 3] : undefined })),
        }),
        // The raw values go under the smoothed lines: drawn after the axes, before the series.
        hooks: {
          drawAxes: [
            (u) =>
              drawRaw(
                u,
                entry.raw,
                series.map((s) => withAlpha(colour(s), RAW_ALPHA)),
              ),
          ],
          // The drawn y range, readable by the panel tests.
          setScale: [
            (u, key) => {
              if (key === 'y') box.dataset.yRange = `${u.scales.y!.min},${u.scales.y!.max}`;
            },
          ],
        },
      };
      entry.plot = new uPlot(opts, [[], ...series.map(() => [])] as uPlot.AlignedData, box);
      this.plots.push(entry);
    }
  }

  private chartWidth(): number {
    const w = this.element.clientWidth;
    return Math.max(280, w >= 900 ? Math.floor(w / 2) - 24 : w - 16);
  }

  private draw(): void {
    if (this.records.length === 0) return;
    this.ensurePlots();
    for (const p of this.plots) {
      p.box.hidden = !hasValues(p.def, this.records);
      const [x, ...raws] = columns({ ...p.def, series: p.series }, this.records);
      p.raw = raws;
      let lo: number | null = null;
      let hi: number | null = null;
      for (const raw of raws) for (const v of raw) if (v !== null) [lo, hi] = [lowest(lo, v), highest(hi, v)];
      p.extent = [lo, hi];
      p.plot.setData([x!, ...raws.map((raw) => smooth(raw, this.smoothing))] as uPlot.AlignedData);
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

  private async exportPng(id: string): Promise<void> {
    const p = this.plots.find((q) => q.def.id === id);
    if (!p || !this.theme) return;
    await this.saved(saveExport(this.host, `${this.runName}-${id}.png`, 'png', canvasPng(p.plot.ctx.canvas, this.theme.bg)));
  }

  private async exportCsv(id: string): Promise<void> {
    const p = this.plots.find((q) => q.def.id === id);
    if (!p) return;
    await this.saved(saveExport(this.host, `${this.runName}-${id}.csv`, 'csv', seriesCsv(p.series, this.records)));
  }

  private async saved(asked: Promise<string | null>): Promise<void> {
    const path = await asked.catch(() => null);
    this.note.textContent = path ? `saved ${path.split(/[\\/]/).pop()}` : '';
  }
}
