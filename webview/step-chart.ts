/**
 * The uPlot options every step chart of the panel shares, on the Charts tab and overlaid on the
 * Runs tab: theme-coloured axes and grid, step ticks, a fitted y range, a cursor synced across
 * the charts of one view, and one line per series.
 */
import type uPlot from 'uplot';
import type { ChartTheme } from './chart-theme';
import { STEP_INCREMENTS } from './metrics-series';

export interface StepLine {
  label: string;
  stroke: string;
  dash?: number[] | undefined;
}

export function stepChartOptions(
  theme: ChartTheme,
  o: {
    width: number;
    height: number;
    syncKey: string;
    range: (min: number | null, max: number | null) => [number, number];
    lines: StepLine[];
  },
): uPlot.Options {
  const axis = { stroke: theme.fg, grid: { stroke: theme.grid, width: 1 }, ticks: { stroke: theme.grid } };
  return {
    width: o.width,
    height: o.height,
    scales: { x: { time: false }, y: { range: (_u, min, max) => o.range(min, max) } },
    axes: [{ ...axis, incrs: STEP_INCREMENTS }, axis],
    cursor: { sync: { key: o.syncKey } },
    series: [
      { label: 'step' },
      ...o.lines.map((l) => ({
        label: l.label,
        stroke: l.stroke,
        width: 1.5,
        dash: l.dash,
        spanGaps: true,
        // uPlot fills points white by default, which glares on a dark theme.
        points: { fill: theme.bg },
      })),
    ],
  };
}
