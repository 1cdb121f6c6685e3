/**
 * Turns metrics records into the columns the charts draw, and smooths them. Pure, so the chart
 * definitions and the smoothing are tested without a browser.
 */
import type { MetricsRecord, RewardTerm, Stream } from '../src/core/types';

export interface SeriesDef {
  label: string;
  /** Index into the chart's colour palette. */
  color: number;
  dash?: boolean;
  pick: (m: MetricsRecord) => number | undefined;
  /** The reward term this series shows, and on which stream (for `applies`). */
  term?: { stream: Stream; term: RewardTerm };
}

export interface ChartDef {
  id: string;
  title: string;
  series: SeriesDef[];
}

/** Steps are whole numbers: the x axis never ticks at 1.5. */
export const STEP_INCREMENTS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000];

const STREAMS: Stream[] = ['grounded', 'textual'];
const TERMS: RewardTerm[] = ['accuracy', 'format', 'grounding', 'consistency', 'tool'];
const PRETRAIN_LOSSES = ['lm', 'dense', 'position', 'attention'];
// The perception tasks of `ivgr pretrain`, box as its hit@0.5 (src/data/synthetic/perception.ts).
const PERCEPTION_TASKS = ['colour', 'shape', 'place', 'box.iou50', 'word'];

const perStream = (pick: (m: MetricsRecord, s: Stream) => number | undefined): SeriesDef[] =>
  STREAMS.map((s, i) => ({ label: s, color: i, pick: (m) => pick(m, s) }));

export const CHARTS: ChartDef[] = [
  { id: 'reward', title: 'Mean reward', series: perStream((m, s) => m.reward[s]) },
  {
    id: 'terms',
    title: 'Reward terms (unweighted)',
    series: STREAMS.flatMap((s, si) =>
      TERMS.map((t, ti) => ({
        label: `${s[0]}:${t}`,
        color: ti,
        dash: si === 1,
        pick: (m: MetricsRecord) => m.terms[s]?.[t],
        term: { stream: s, term: t },
      })),
    ),
  },
  { id: 'accuracy', title: 'Accuracy', series: perStream((m, s) => m.accuracy[s]) },
  { id: 'kl', title: 'KL to reference', series: [{ label: 'kl', color: 2, pick: (m) => m.kl }] },
  { id: 'clip', title: 'Clip fraction', series: [{ label: 'clip', color: 3, pick: (m) => m.clipFraction }] },
  { id: 'length', title: 'Response length (tokens)', series: perStream((m, s) => m.responseLength[s]) },
  { id: 'tps', title: 'Tokens / s', series: [{ label: 'tokens/s', color: 4, pick: (m) => m.tokensPerSecond }] },
  {
    id: 'pretrain-loss',
    title: 'Pretraining losses',
    series: PRETRAIN_LOSSES.map((k, i) => ({ label: k, color: i, pick: (m: MetricsRecord) => m.pretrain?.losses[k] })),
  },
  {
    id: 'perception',
    title: 'Held-out perception accuracy (latest stage)',
    series: PERCEPTION_TASKS.map((t, i) => ({ label: t, color: i, pick: (m: MetricsRecord) => latestStageScore(m, t) })),
  },
];

/** The score of `task` on the last curriculum stage the record lists (stages are written in order). */
export function latestStageScore(m: MetricsRecord, task: string): number | undefined {
  const keys = Object.keys(m.perception ?? {}).filter((k) => k.endsWith(`.${task}`) && k.indexOf('.') === k.length - task.length - 1);
  const last = keys.at(-1);
  return last === undefined ? undefined : m.perception?.[last];
}

/** Columns for one chart: steps first, then one array per series (null where a step lacks the value). */
export function columns(def: ChartDef, records: readonly MetricsRecord[]): (number | null)[][] {
  const steps = records.map((r) => r.step);
  const cols: (number | null)[][] = [steps];
  for (const s of def.series) cols.push(records.map((r) => finiteOrNull(s.pick(r))));
  return cols;
}

/** Whether any record has a value for any of the chart's series: a chart of nothing (KL of an imported dump) is not drawn. */
export function hasValues(def: ChartDef, records: readonly MetricsRecord[]): boolean {
  return records.some((r) => def.series.some((s) => finiteOrNull(s.pick(r)) !== null));
}

function finiteOrNull(v: number | undefined): number | null {
  return v !== undefined && Number.isFinite(v) ? v : null;
}

/**
 * Exponential moving average with debiasing (as TensorBoard smooths): weight 0 returns the
 * input, weights near 1 smooth strongly. Gaps (null) stay gaps and do not reset the average.
 */
export function smooth(values: readonly (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) return values.slice();
  let last = 0;
  let n = 0;
  return values.map((v) => {
    if (v === null) return null;
    last = last * weight + (1 - weight) * v;
    n++;
    return last / (1 - Math.pow(weight, n));
  });
}

/** Reward weights from a run config's `rewards` (absent or malformed terms are left out). */
export function rewardWeights(config: Record<string, unknown>): Partial<Record<RewardTerm, number>> {
  const r = config.rewards;
  if (!r || typeof r !== 'object') return {};
  const out: Partial<Record<RewardTerm, number>> = {};
  for (const t of TERMS) {
    const w = (r as Record<string, unknown>)[t];
    if (typeof w === 'number' && Number.isFinite(w)) out[t] = w;
  }
  return out;
}

/**
 * Whether a series can carry meaning in this run: grounding is not scored on the textual stream
 * (it cites no boxes), consistency not on the grounded one (it is the reference), and a term
 * weighted 0 does not enter the reward.
 */
export function applies(s: SeriesDef, weights: Partial<Record<RewardTerm, number>>): boolean {
  if (!s.term) return true;
  const { stream, term } = s.term;
  if (stream === 'textual' && term === 'grounding') return false;
  if (stream === 'grounded' && term === 'consistency') return false;
  return weights[term] !== 0;
}

/**
 * The y range drawn for data between `min` and `max`: the data with 5 % room, and for a flat
 * series a small band around its value (uPlot's default for all zeros is 0–100).
 */
export function fitRange(min: number | null, max: number | null): [number, number] {
  if (min === null || max === null || !Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  // Flat, up to rounding (a smoothed value can differ from the raw one in the last digit).
  if (max - min <= Math.max(Math.abs(min), Math.abs(max)) * 1e-9) {
    if (max === 0 && min === 0) return [0, 1];
    const pad = Math.abs(max) * 0.1;
    return [min - pad, max + pad];
  }
  const pad = (max - min) * 0.05;
  return [min >= 0 && min - pad < 0 ? 0 : min - pad, max + pad];
}

/** Training pace from the recent records: steps per second, and seconds left to `totalSteps` (null when unknown). */
export function pace(records: readonly MetricsRecord[], totalSteps: number): { stepsPerSecond: number; etaSeconds: number | null } | null {
  const recent = records.slice(-10);
  const first = recent[0];
  const last = recent.at(-1);
  if (!first || !last || last === first) return null;
  const seconds = (last.time - first.time) / 1000;
  const steps = last.step - first.step;
  if (!(seconds > 0) || !(steps > 0)) return null;
  const stepsPerSecond = steps / seconds;
  return { stepsPerSecond, etaSeconds: totalSteps > last.step ? (totalSteps - last.step) / stepsPerSecond : null };
}

/** "45 s", "12 min", "3 h 05 min". */
export function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  const min = Math.round(seconds / 60);
  if (min < 90) return `${min} min`;
  return `${Math.floor(min / 60)} h ${String(min % 60).padStart(2, '0')} min`;
}

/** A chart's series as CSV: one line per step, one column per series, raw (unsmoothed) values. */
export function seriesCsv(series: readonly SeriesDef[], records: readonly MetricsRecord[]): string {
  const quote = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const lines = [['step', ...series.map((s) => s.label)].map(quote).join(',')];
  for (const r of records) lines.push([r.step, ...series.map((s) => finiteOrNull(s.pick(r)) ?? '')].join(','));
  return `${lines.join('\n')}\n`;
}
