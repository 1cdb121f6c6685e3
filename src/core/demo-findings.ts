/**
 * What the demo's table says about the paper's claim, in sentences: the textual-mode
 * comparisons with their 95% intervals, how grounded and tool modes compare with textual
 * mode, and whether the consistency term ever had a reference to act on (without one the
 * consistency weight changes nothing and the ablation repeats the full run).
 */
import type { ConsistencyFiring, PairedTest } from './paired-tests';
import type { EvalMode, EvalSummaryRow, MetricsRecord } from './types';

export interface DemoFindingsInput {
  rows: readonly EvalSummaryRow[];
  /** Metrics of the full iVGR run, one record per RL step. */
  metrics: readonly MetricsRecord[];
  /** Checkpoint labels in the table. */
  sft: string;
  full: string;
  ablation: string | null;
  /** McNemar tests on the same questions (textual mode: full vs warm start, full vs ablation). */
  paired?: readonly PairedTest[];
  /** How often the consistency term had a reference during the full run's RL. */
  firing?: ConsistencyFiring;
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
const interval = (r: EvalSummaryRow): string => `${pct(r.accuracy)} [${pct(r.ciLow)}, ${pct(r.ciHigh)}]`;

/** "higher", "lower", or that the 95% intervals overlap so the table cannot order them. */
export function compareRows(a: EvalSummaryRow, b: EvalSummaryRow): 'higher' | 'lower' | 'overlap' {
  if (a.ciLow > b.ciHigh) return 'higher';
  if (a.ciHigh < b.ciLow) return 'lower';
  return 'overlap';
}

function verdict(a: EvalSummaryRow, b: EvalSummaryRow): string {
  const diff = 100 * (a.accuracy - b.accuracy);
  const sign = diff >= 0 ? '+' : '−';
  const order = compareRows(a, b);
  const reading = order === 'overlap' ? 'the 95% intervals overlap: not separable at this n' : `${order}, beyond the 95% intervals`;
  return `${interval(a)} vs ${interval(b)} (${sign}${Math.abs(diff).toFixed(1)} points; ${reading})`;
}

/** "p = 0.023", or "p < 0.001" when it is tiny. */
export function formatP(p: number): string {
  return p < 0.001 ? 'p < 0.001' : `p = ${p.toFixed(3)}`;
}

const mean = (xs: readonly number[]): number => (xs.length === 0 ? 0 : xs.reduce((s, x) => s + x, 0) / xs.length);

export function demoFindings(input: DemoFindingsInput): string[] {
  const find = (checkpoint: string, mode: EvalMode) => input.rows.find((r) => r.checkpoint === checkpoint && r.mode === mode);
  const lines: string[] = [];
  const fullText = find(input.full, 'textual');
  const sftText = find(input.sft, 'textual');
  const paired = (b: string) => input.paired?.find((t) => t.a === input.full && t.b === b && t.mode === 'textual');
  const withPaired = (b: string) => {
    const t = paired(b);
    return t
      ? `; paired on ${t.n} questions: ${t.onlyA} right only after ${t.a}, ${t.onlyB} only with ${t.b}, McNemar ${formatP(t.p)}`
      : '';
  };
  if (fullText && sftText)
    lines.push(`textual accuracy, ${input.full} vs ${input.sft}: ${verdict(fullText, sftText)}${withPaired(input.sft)}`);
  const ablText = input.ablation ? find(input.ablation, 'textual') : undefined;
  if (fullText && ablText && input.ablation)
    lines.push(`textual accuracy, ${input.full} vs ${input.ablation}: ${verdict(fullText, ablText)}${withPaired(input.ablation)}`);
  for (const checkpoint of [input.sft, input.full]) {
    for (const mode of ['grounded', 'tool'] as const) {
      const r = find(checkpoint, mode);
      if (r && r.meanIou !== null && r.hitRate !== null)
        lines.push(`${checkpoint}: ${mode} boxes, mean IoU ${r.meanIou.toFixed(3)}, hit@0.5 ${pct(r.hitRate)}`);
    }
  }
  if (input.firing && input.firing.questions > 0) {
    const f = input.firing;
    lines.push(
      `consistency firing rate: ${pct(f.rate)} of RL questions (${f.fired} of ${f.questions}) had at least one high-quality grounded reference`,
    );
  }
  for (const checkpoint of [input.sft, input.full, ...(input.ablation ? [input.ablation] : [])]) {
    const text = find(checkpoint, 'textual');
    if (!text) continue;
    for (const mode of ['grounded', 'tool'] as const) {
      const other = find(checkpoint, mode);
      if (other) lines.push(`${checkpoint}: ${mode} vs textual: ${verdict(other, text)}`);
    }
  }
  const steps = input.metrics.length;
  if (steps > 0) {
    const active = input.metrics.filter((m) => m.highQualityGrounded > 0).length;
    const references = input.metrics.reduce((s, m) => s + m.highQualityGrounded, 0);
    lines.push(
      active === 0
        ? `consistency: no grounded trace was correct with its box on the evidence in any of ${steps} steps, so the consistency term had no reference and weight 0 trains the same model`
        : `consistency: active in ${active} of ${steps} steps (${references} high-quality grounded traces as references)`,
    );
    const k = Math.min(5, Math.ceil(steps / 2));
    const acc = (ms: readonly MetricsRecord[]) => mean(ms.map((m) => m.accuracy.textual ?? 0));
    lines.push(
      `training accuracy, textual stream: ${pct(acc(input.metrics.slice(0, k)))} in the first ${k} steps, ${pct(acc(input.metrics.slice(-k)))} in the last ${k}`,
    );
  }
  return lines;
}
