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
}

export interface ChartDef {
  id: string;
  title: string;
  series: SeriesDef[];
}

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
      TERMS.map((t, ti) => ({ label: `${s[0]}:${t}`, color: ti, dash: si === 1, pick: (m: MetricsRecord) => m.terms[s]?.[t] })),
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
