/**
 * Converts external RL rollout dumps into a run directory the panel can open:
 * verl generation dumps (JSONL lines with input / output / score / step) and
 * TRL GRPO completions logs (prompt / completion / one column per reward
 * function, or a `rewards` object / `reward`, plus step and advantage).
 * Group advantages are recomputed when the dump has none.
 */
import { createHash } from 'node:crypto';
import { groupAdvantages, DEFAULT_ADVANTAGE_OPTIONS } from '../core/advantages';
import { REWARD_TERMS } from '../core/rewards';
import type { RewardBreakdown, RewardTerm, RolloutRecord } from '../core/types';
import { stepMetrics } from '../core/step-metrics';
import { collapseVisionPads, dumpOutputBoxes } from '../core/dump-text';
import type { CoordConvention, ImageSize, MetricsRecord } from '../core/types';

export type DumpFormat = 'verl' | 'trl';

interface Row {
  step: number;
  input: string;
  output: string;
  score: number;
  advantage: number | null;
  rewards: RewardBreakdown;
  correct: boolean;
  line: number;
  /** The step file of a verl rollout directory the row came from (its name without .jsonl). */
  source?: string;
  /** The dataset row the dump names (`id`, `index`, `question_id` or `sample_id`), for joining images. */
  ref?: string;
  /** An image path the dump itself names. */
  image?: string;
  /** The reference answer the dump recorded (verl's `gts`, or a `ground_truth` column). */
  expected?: string;
}

/** The image a row was joined with: its path inside the run folder and its size. */
export interface JoinedImage {
  path: string;
  size: ImageSize;
}

const REF_FIELDS = ['id', 'index', 'question_id', 'sample_id'];

const RESERVED = new Set([
  'step',
  'input',
  'output',
  'score',
  'prompt',
  'completion',
  'reward',
  'rewards',
  'advantage',
  'image',
  'images',
  'gts',
  'ground_truth',
  ...REF_FIELDS,
]);

/** Maps a reward column name like "accuracy_reward" or "format" to our term, when it is one. */
function termOf(name: string): RewardTerm | null {
  const base = name.toLowerCase().replace(/(_reward|_score|reward_|score_)/g, '');
  const alias: Record<string, RewardTerm> = { acc: 'accuracy', correctness: 'accuracy', iou: 'grounding' };
  const t = alias[base] ?? base;
  return (REWARD_TERMS as readonly string[]).includes(t) ? (t as RewardTerm) : null;
}

function text(v: unknown): string {
  if (typeof v === 'string') return v;
  // Conversational TRL prompts are message lists.
  if (Array.isArray(v))
    return v
      .map((m) =>
        m && typeof m === 'object' && 'content' in m
          ? `${String((m as { role?: unknown }).role ?? '')}: ${text((m as { content: unknown }).content)}`
          : text(m),
      )
      .join('\n');
  if (v && typeof v === 'object' && 'text' in v) return String((v as { text: unknown }).text);
  return v === undefined || v === null ? '' : JSON.stringify(v);
}

/** A reference answer as verl dumps it: a string or number, a list of them, or nothing. */
function expectedOf(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string' || typeof x === 'number')) return v.join(', ');
  return undefined;
}

/** Reads one dump line; throws naming the line and the missing field. */
export function parseDumpLine(obj: unknown, line: number, file: string): { row: Row; format: DumpFormat } {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new Error(`${file}:${line}: expected a JSON object`);
  const o = obj as Record<string, unknown>;
  const format: DumpFormat | null = 'output' in o ? 'verl' : 'completion' in o ? 'trl' : null;
  if (!format)
    throw new Error(
      `${file}:${line}: expected verl fields (input, output, score, step) or TRL fields (prompt, completion, reward(s), step)`,
    );
  const rewards: RewardBreakdown = {};
  const columns: Record<string, number> = {};
  for (const [k, v] of Object.entries(o)) if (!RESERVED.has(k) && typeof v === 'number' && Number.isFinite(v)) columns[k] = v;
  if (o.rewards && typeof o.rewards === 'object') for (const [k, v] of Object.entries(o.rewards)) if (typeof v === 'number') columns[k] = v;
  for (const [k, v] of Object.entries(columns)) {
    const term = termOf(k);
    if (term) rewards[term] = { value: v, weight: 1, explanation: `imported from "${k}"` };
  }
  let score: number;
  if (typeof o.score === 'number') score = o.score;
  else if (typeof o.reward === 'number') score = o.reward;
  else if (Object.keys(columns).length > 0) score = Object.values(columns).reduce((a, b) => a + b, 0);
  else throw new Error(`${file}:${line}: no reward: expected "score", "reward", "rewards" or reward columns`);
  const step = Number(o.step ?? 0);
  if (!Number.isFinite(step)) throw new Error(`${file}:${line}: "step" must be a number, got ${JSON.stringify(o.step)}`);
  const accuracy = rewards.accuracy?.value;
  const ref = REF_FIELDS.map((k) => o[k]).find((v) => typeof v === 'string' || typeof v === 'number');
  const image = [o.image, Array.isArray(o.images) ? o.images[0] : o.images].find((v): v is string => typeof v === 'string' && v !== '');
  const expected = expectedOf(o.gts ?? o.ground_truth);
  return {
    format,
    row: {
      step,
      input: collapseVisionPads(text(format === 'verl' ? o.input : o.prompt)),
      output: collapseVisionPads(text(format === 'verl' ? o.output : o.completion)),
      score,
      advantage: typeof o.advantage === 'number' ? o.advantage : null,
      rewards,
      correct: accuracy !== undefined ? accuracy >= 1 : score > 0,
      line,
      ...(ref !== undefined ? { ref: String(ref) } : {}),
      ...(image ? { image } : {}),
      ...(expected !== undefined ? { expected } : {}),
    },
  };
}

/**
 * Turns dump rows into rollout and metrics records: groups are (step, prompt). `imageOf` gives a
 * row's joined image, whose size converts the boxes its output cites from the model's `convention`.
 */
export function convertRows(
  rows: readonly Row[],
  time: number,
  imageOf: (row: Row) => JoinedImage | undefined = () => undefined,
  convention: CoordConvention = 'qwen2-1000',
): { rollouts: RolloutRecord[]; metrics: MetricsRecord[] } {
  const groups = new Map<string, Row[]>();
  for (const r of rows) {
    const key = `${r.step}\u0000${r.input}`;
    const g = groups.get(key);
    if (g) g.push(r);
    else groups.set(key, [r]);
  }
  const rollouts: RolloutRecord[] = [];
  for (const g of groups.values()) {
    const adv = g.every((r) => r.advantage !== null)
      ? g.map((r) => r.advantage!)
      : groupAdvantages(
          g.map((r) => r.score),
          DEFAULT_ADVANTAGE_OPTIONS,
        );
    const promptId = createHash('sha256').update(g[0]!.input).digest('hex').slice(0, 12);
    g.forEach((r, i) => {
      const joined = imageOf(r);
      rollouts.push({
        v: 1,
        id: r.source === undefined ? `import-${r.line}` : `import-${r.source}-${r.line}`,
        step: r.step,
        stream: /<box>|<\|box_start\|>|bbox_2d/.test(r.output) ? 'grounded' : 'textual',
        promptId,
        sample: i,
        input: r.input,
        output: r.output,
        score: r.score,
        answer: /<answer>([\s\S]*?)<\/answer>/.exec(r.output)?.[1]?.trim() ?? null,
        ...(r.expected !== undefined ? { expected: r.expected } : {}),
        correct: r.correct,
        ...(joined ? { image: joined.path } : {}),
        boxes: joined ? dumpOutputBoxes(r.output, joined.size, convention) : [],
        rewards: r.rewards,
        advantage: adv[i] ?? 0,
        tokens: { prompt: 0, completion: 0 },
        finish: 'stop',
        time,
      });
    });
  }
  rollouts.sort((a, b) => a.step - b.step);
  const steps = [...new Set(rollouts.map((r) => r.step))];
  const metrics = steps.map((step) =>
    dumpMetrics(
      rollouts.filter((r) => r.step === step),
      step,
      time,
    ),
  );
  return { rollouts, metrics };
}

/** A step's metrics from what a dump holds: rewards and accuracy; no KL, clip fraction, loss, lengths or speed. */
function dumpMetrics(rollouts: readonly RolloutRecord[], step: number, time: number): MetricsRecord {
  const m = stepMetrics(rollouts, { step, time, kl: 0, clipFraction: 0, loss: 0, gradNorm: 0, phases: {}, highQualityGrounded: 0 });
  delete m.kl;
  delete m.clipFraction;
  delete m.loss;
  delete m.gradNorm;
  delete m.tokensPerSecond;
  return { ...m, responseLength: {} };
}

export type { Row as DumpRow };
