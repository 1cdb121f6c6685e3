/**
 * What the extension knows about one run, and the pure decisions made from it: which actions a
 * run allows, its tree rows and its status-bar text. No vscode import, so all of it is unit-tested.
 */
import type { EvalSummaryRow, RunStatus } from '../core/types';

export interface RunView {
  id: string;
  dir: string;
  name: string | null;
  status: RunStatus;
  step: number;
  totalSteps: number;
  phase: string | null;
  reward: { grounded?: number; textual?: number };
  /** Steps of complete checkpoints, oldest first. */
  checkpoints: number[];
  evals: EvalSummaryRow[];
  /** Last worker log lines, kept for a crashed run. */
  lastLog: string[];
  /** A folder of imported rollouts (verl/TRL dump): readable, never trainable. */
  imported: boolean;
  /** Whether this window holds a live control connection to the worker. */
  attached: boolean;
  message?: string;
}

export type RunAction = 'pause' | 'resume' | 'stop' | 'restart' | 'evaluate' | 'open' | 'log' | 'export';

/**
 * Actions a run allows in its state. `resume` continues a paused worker over the control channel;
 * `restart` starts a new worker from the latest checkpoint of a crashed or stopped run.
 */
export function allowedActions(run: Pick<RunView, 'status' | 'checkpoints' | 'imported'>): RunAction[] {
  const always: RunAction[] = ['open', 'log', 'export'];
  // A followed import (`ivgr import --follow`) stops; nothing else acts on an import.
  if (run.imported) return run.status === 'running' ? ['stop', ...always] : always;
  const evaluate: RunAction[] = run.checkpoints.length > 0 ? ['evaluate'] : [];
  switch (run.status) {
    case 'running':
      return ['pause', 'stop', ...evaluate, ...always];
    case 'paused':
      return ['resume', 'stop', ...evaluate, ...always];
    case 'created':
      return ['stop', ...always];
    case 'crashed':
    case 'stopped':
      return ['restart', ...evaluate, ...always];
    case 'finished':
      return [...evaluate, ...always];
  }
}

export type PanelControl = 'pause' | 'resume' | 'stop';

/**
 * The panel's header buttons that act on the run now. Resume also covers `restart` (the Resume
 * command continues a stopped or crashed run from its latest checkpoint).
 */
export function panelControls(run: Pick<RunView, 'status' | 'checkpoints' | 'imported'>): PanelControl[] {
  const allowed = allowedActions(run);
  const out: PanelControl[] = [];
  if (allowed.includes('pause')) out.push('pause');
  if (allowed.includes('resume') || allowed.includes('restart')) out.push('resume');
  if (allowed.includes('stop')) out.push('stop');
  return out;
}

/** Actions that start a process, refused in an untrusted workspace. */
export const PROCESS_ACTIONS: ReadonlySet<RunAction> = new Set(['restart', 'evaluate']);

/**
 * The tree item's contextValue: `ivgrRun` plus one `:action` per allowed action, so package.json
 * menus match with `viewItem =~ /:pause(:|$)/` and stay true to `allowedActions`.
 */
export function runContextValue(run: Pick<RunView, 'status' | 'checkpoints' | 'imported'>): string {
  return ['ivgrRun', ...allowedActions(run)].join(':');
}

const ICONS: Record<RunStatus, { icon: string; color?: string }> = {
  created: { icon: 'loading~spin' },
  running: { icon: 'sync~spin', color: 'charts.blue' },
  paused: { icon: 'debug-pause', color: 'charts.yellow' },
  stopped: { icon: 'debug-stop' },
  crashed: { icon: 'error', color: 'errorForeground' },
  finished: { icon: 'pass', color: 'charts.green' },
};

export function statusIcon(status: RunStatus): { icon: string; color?: string } {
  return ICONS[status];
}

export function formatReward(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(2);
}

export function progressText(run: Pick<RunView, 'step' | 'totalSteps'>): string {
  return run.totalSteps > 0 ? `${run.step}/${run.totalSteps}` : `step ${run.step}`;
}

/** Rewards as "G 0.61 · T 0.48", or '' when no step has finished. */
export function rewardText(reward: RunView['reward']): string {
  if (reward.grounded === undefined && reward.textual === undefined) return '';
  return `G ${formatReward(reward.grounded)} · T ${formatReward(reward.textual)}`;
}

export type TreeNode =
  | {
      kind: 'run';
      id: string;
      runDir: string;
      label: string;
      description: string;
      tooltip: string;
      icon: string;
      color?: string;
      contextValue: string;
    }
  | { kind: 'group'; id: string; runDir: string; label: string; description: string; group: 'checkpoints' | 'evaluations' }
  | { kind: 'checkpoint'; id: string; runDir: string; label: string; description: string; step: number; contextValue: string }
  | {
      kind: 'evaluation';
      id: string;
      runDir: string;
      label: string;
      description: string;
      tooltip: string;
      checkpoint: string;
      mode: string;
    };

export function runNode(run: RunView): Extract<TreeNode, { kind: 'run' }> {
  const { icon, color } = statusIcon(run.status);
  const parts = [run.status, run.imported ? 'imported' : progressText(run), rewardText(run.reward)].filter((p) => p !== '');
  const tooltip = [
    `${run.name ?? run.id} — ${run.status}${run.phase && run.status === 'running' ? ` (${run.phase})` : ''}`,
    run.dir,
    `Step ${progressText(run)}`,
    rewardText(run.reward) ? `Mean reward: ${rewardText(run.reward)}` : '',
    run.message ?? '',
    ...(run.status === 'crashed' && run.lastLog.length > 0 ? ['', 'Last log lines:', ...run.lastLog.slice(-5)] : []),
  ].filter((l, i, a) => l !== '' || (i > 0 && a[i - 1] !== ''));
  return {
    kind: 'run',
    id: `run:${run.dir}`,
    runDir: run.dir,
    label: run.name ?? run.id,
    description: parts.join(' · '),
    tooltip: tooltip.join('\n').trim(),
    icon,
    color,
    contextValue: runContextValue(run),
  };
}

/** Children of a run row: a checkpoints group and an evaluations group, each only when not empty. */
export function runChildren(run: RunView): TreeNode[] {
  const groups = [
    { group: 'checkpoints' as const, key: 'ckpts', label: 'Checkpoints', count: run.checkpoints.length },
    { group: 'evaluations' as const, key: 'evals', label: 'Evaluations', count: run.evals.length },
  ];
  return groups
    .filter((g) => g.count > 0)
    .map((g) => ({
      kind: 'group',
      id: `${g.key}:${run.dir}`,
      runDir: run.dir,
      label: g.label,
      description: String(g.count),
      group: g.group,
    }));
}

export function groupChildren(run: RunView, group: 'checkpoints' | 'evaluations'): TreeNode[] {
  if (group === 'checkpoints') {
    const latest = run.checkpoints.at(-1);
    return [...run.checkpoints].reverse().map((step) => ({
      kind: 'checkpoint' as const,
      id: `ckpt:${run.dir}:${step}`,
      runDir: run.dir,
      label: `step ${step}`,
      description: step === latest ? 'latest' : '',
      step,
      contextValue: run.imported ? 'ivgrCheckpoint' : 'ivgrCheckpoint:evaluate',
    }));
  }
  return run.evals.map((row) => ({
    kind: 'evaluation' as const,
    id: `eval:${run.dir}:${row.checkpoint}:${row.mode}:${row.engine}`,
    runDir: run.dir,
    label: `${row.checkpoint} · ${row.mode}`,
    description: evalDescription(row),
    tooltip: `${row.n} questions, ${row.engine} engine\naccuracy ${pct(row.accuracy)} (95% CI ${pct(row.ciLow)}–${pct(row.ciHigh)})${row.meanIou === null ? '' : `\nmean IoU ${row.meanIou.toFixed(2)}`}${row.hitRate === null ? '' : `\nlocalisation hit-rate ${pct(row.hitRate)}`}`,
    checkpoint: row.checkpoint,
    mode: row.mode,
  }));
}

function pct(v: number): string {
  return `${(v * 100).toFixed(1)}%`;
}

function evalDescription(row: EvalSummaryRow): string {
  const parts = [`acc ${pct(row.accuracy)}`];
  if (row.meanIou !== null) parts.push(`IoU ${row.meanIou.toFixed(2)}`);
  parts.push(`n=${row.n}`);
  return parts.join(' · ');
}

/** Status-bar text of the active run, with a codicon for its state. */
export function statusBarText(run: RunView): string {
  const { icon } = statusIcon(run.status);
  const reward = rewardText(run.reward);
  // A paused run keeps its step beside the state; other states show alone (the tooltip has the rest).
  const state = run.status === 'running' ? progressText(run) : run.status === 'paused' ? `paused ${progressText(run)}` : run.status;
  return `$(${icon}) iVGR ${state}${reward ? ` · ${reward}` : ''}`;
}

export function statusBarTooltip(run: RunView): string {
  return [
    `iVGR run ${run.name ?? run.id}: ${run.status}${run.phase && run.status === 'running' ? `, ${run.phase}` : ''}`,
    `Step ${progressText(run)}`,
    `Mean reward — grounded ${formatReward(run.reward.grounded)}, textual ${formatReward(run.reward.textual)}`,
    'Click to open the run panel',
  ].join('\n');
}

/**
 * The run the status bar follows: the one the user last focused if it still exists, else the most
 * recently active live run, else none.
 */
export function pickActiveRun(runs: readonly RunView[], focusedDir: string | null): RunView | null {
  const focused = focusedDir === null ? undefined : runs.find((r) => r.dir === focusedDir);
  if (focused) return focused;
  return runs.find((r) => r.status === 'running' || r.status === 'paused' || r.status === 'created') ?? null;
}
