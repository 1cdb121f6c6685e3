/**
 * The model card `ivgr pretrain` writes beside the model it made (<run>/model/README.md): what
 * the model is, the command and recipe that reproduce it, its wall time, the weights' sha256
 * and the held-out perception scores of its last evaluation. Pure: the caller reads the files.
 */
import type { MetricsRecord } from '../core/types';
import { TOKEN_SIDE_PX } from './pretrain-config';

export interface ModelCardInput {
  name: string;
  /** The recipe file as written, and its path as the user gave it. */
  recipeText: string;
  recipePath: string;
  parameters: number;
  imageSize: number;
  convention: string;
  ropeTheta: number;
  sha256: string;
  bytes: number;
  metrics: readonly MetricsRecord[];
  /** Where it was measured, in words (cores, threads). */
  machine: string;
  /** The model folder the recipe started from (its `init`), when not random weights. */
  init?: string;
  /** The question tasks of the recipe's stages (src/data/synthetic/perception.ts). */
  tasks: readonly string[];
}

const TASK_WORDS: Record<string, string> = {
  colour: 'the colour of a named object',
  shape: 'its shape',
  place: 'its place on the 3 × 3 grid',
  box: 'its box',
  word: 'the word on a sign',
  relation: 'where one object lies relative to another',
  trace: "the benchmark's questions answered in both streams' reference trace formats",
  match: 'the option letter after a stated value, text only',
  copy: 'a benchmark question repeated word for word, text only',
};

/** Seconds of training: the spans between metrics lines, leaving out gaps over `pauseGap` (a pause). */
export function trainingSeconds(metrics: readonly Pick<MetricsRecord, 'time'>[], pauseGap = 600): number {
  let total = 0;
  for (let i = 1; i < metrics.length; i++) {
    const dt = metrics[i]!.time - metrics[i - 1]!.time;
    if (dt > 0 && dt < pauseGap) total += dt;
  }
  return total;
}

/** The held-out table: one row per task, one column per curriculum stage (`<stage>-val.<task>` keys). */
export function perceptionTable(scores: Record<string, number>): string {
  const stages: string[] = [];
  const tasks: string[] = [];
  for (const key of Object.keys(scores)) {
    const dot = key.indexOf('.');
    if (dot < 0) continue;
    const stage = key.slice(0, dot).replace(/-val$/, '');
    const task = key.slice(dot + 1);
    if (!stages.includes(stage)) stages.push(stage);
    if (!tasks.includes(task)) tasks.push(task);
  }
  const label = (t: string) => (t === 'box' ? 'box (exact tokens)' : t === 'box.iou50' ? 'box hit@0.5' : t);
  const cell = (s: string, t: string) => {
    const v = scores[`${s}-val.${t}`];
    return v === undefined ? '–' : `${(100 * v).toFixed(0)} %`;
  };
  return [
    `| task | ${stages.join(' | ')} |`,
    `|---|${stages.map(() => '---:').join('|')}|`,
    ...tasks.map((t) => `| ${label(t)} | ${stages.map((s) => cell(s, t)).join(' | ')} |`),
  ].join('\n');
}

export function modelCard(c: ModelCardInput): string {
  const last = [...c.metrics].reverse().find((m) => m.perception);
  const steps = c.metrics.reduce((n, m) => Math.max(n, m.step), 0);
  const hours = trainingSeconds(c.metrics) / 3600;
  return `# ${c.name}

A ${(c.parameters / 1e6).toFixed(2)} M-parameter Qwen2.5-VL (transformers' \`Qwen2_5_VLForConditionalGeneration\`,
the published config layout) ${c.init ? 'trained further' : 'pretrained from random weights'} by \`ivgr pretrain\` on questions about
synthetic scenes: ${c.tasks.map((t) => TASK_WORDS[t] ?? t).join('; ')}.
Input ${c.imageSize} × ${c.imageSize} px (${(c.imageSize / TOKEN_SIDE_PX) ** 2} visual tokens), boxes written in ${c.convention}, M-RoPE base ${c.ropeTheta}.
A run config's \`model:\` takes the folder; the shipped one (\`models/ivgr-tiny\`, \`model: builtin:ivgr-tiny\`) is where the
demo's warm start and iVGR's RL begin. It knows only the synthetic benchmark's vocabulary.

## Reproduce

\`\`\`sh
npx ivgr pretrain ${c.recipePath}
\`\`\`
${c.init ? `\nThe recipe continues from \`${c.init}\` (its \`init\`), made first by its own recipe; that folder's card gives its scores.\n` : ''}
${steps} steps in ${hours.toFixed(2)} h of training on ${c.machine}, held-out evaluations included and pauses left out.
The model is \`<run>/model/\`; its weights' digest:

- \`model.safetensors\`: ${(c.bytes / 1e6).toFixed(1)} MB, sha256 \`${c.sha256}\`

Weights depend on the torch build and thread count at the last bits, so a rerun matches the scores below,
not necessarily the digest.

## Held-out perception (step ${last?.step ?? '–'})

Exact-match accuracy of the answer on held-out scenes of each curriculum stage (never trained on); for a
trace, the share of its tokens read right given the reference tokens before them. Box hit@0.5 is the share of boxes with IoU ≥ 0.5 against the object. Held-out loss ${last?.perception?.loss?.toFixed(3) ?? '–'} nats/token.

${last?.perception ? perceptionTable(last.perception) : '(no evaluation recorded)'}

## Recipe

\`\`\`yaml
${c.recipeText.trim()}
\`\`\`
`;
}
