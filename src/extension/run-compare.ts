/** Compare Runs: a Markdown report of several runs side by side (progress, rewards, eval, config differences). */
import type { EvalMode } from '../core/types';
import { formatReward, progressText, type RunView } from './run-display';

export interface CompareInput {
  view: RunView;
  /** The resolved config from run.json (empty for imported dumps). */
  config: Record<string, unknown>;
}

function flatten(o: unknown, prefix = '', out = new Map<string, string>()): Map<string, string> {
  if (o !== null && typeof o === 'object' && !Array.isArray(o)) {
    for (const [k, v] of Object.entries(o)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else out.set(prefix, JSON.stringify(o));
  return out;
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function compareRunsMarkdown(runs: readonly CompareInput[]): string {
  const names = runs.map((r) => cell(r.view.name ?? r.view.id));
  const row = (label: string, values: string[]): string => `| ${label} | ${values.map(cell).join(' | ')} |`;
  const lines = [
    '# iVGR run comparison',
    '',
    `| | ${names.join(' | ')} |`,
    `|---|${names.map(() => '---').join('|')}|`,
    row(
      'status',
      runs.map((r) => r.view.status),
    ),
    row(
      'step',
      runs.map((r) => progressText(r.view)),
    ),
    row(
      'mean reward, grounded',
      runs.map((r) => formatReward(r.view.reward.grounded)),
    ),
    row(
      'mean reward, textual',
      runs.map((r) => formatReward(r.view.reward.textual)),
    ),
  ];
  // Accuracy per mode at each run's latest evaluated checkpoint: the paper's comparison.
  for (const mode of ['textual', 'grounded', 'tool'] as EvalMode[]) {
    const values = runs.map((r) => {
      const rows = r.view.evals.filter((e) => e.mode === mode);
      const last = rows.sort((a, b) => Number(a.checkpoint) - Number(b.checkpoint)).at(-1);
      if (!last) return '–';
      return `${(last.accuracy * 100).toFixed(1)}% @${last.checkpoint}${last.meanIou === null ? '' : `, IoU ${last.meanIou.toFixed(2)}`}`;
    });
    if (values.some((v) => v !== '–')) lines.push(row(`eval accuracy, ${mode}`, values));
  }
  const flat = runs.map((r) => flatten(r.config));
  const keys = [...new Set(flat.flatMap((f) => [...f.keys()]))].sort();
  const differing = keys.filter((k) => new Set(flat.map((f) => f.get(k) ?? '–')).size > 1 && k !== 'name');
  lines.push('', '## Config differences', '');
  if (differing.length === 0) lines.push('The configs are the same.');
  else {
    lines.push(`| field | ${names.join(' | ')} |`, `|---|${names.map(() => '---').join('|')}|`);
    for (const k of differing)
      lines.push(
        row(
          `\`${k}\``,
          flat.map((f) => f.get(k) ?? '–'),
        ),
      );
  }
  return lines.join('\n') + '\n';
}
