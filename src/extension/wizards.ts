/**
 * The multi-step questions of Start Training Run (new config) and Evaluate Checkpoint, written
 * against a small `Prompter` so their logic is tested without VS Code; prompter.ts adapts it to
 * quick picks and input boxes.
 */
import type { EvalMode } from '../core/types';
import { checkDevice, checkRunName, checkSteps, type TemplateAnswers } from './config-template';

export interface PickItem<T> {
  label: string;
  description?: string;
  detail?: string;
  value: T;
  picked?: boolean;
}

export interface Prompter {
  pick<T>(title: string, items: PickItem<T>[], placeHolder?: string): Promise<T | undefined>;
  pickMany<T>(title: string, items: PickItem<T>[], placeHolder?: string): Promise<T[] | undefined>;
  input(title: string, prompt: string, value: string, validate: (v: string) => string | null): Promise<string | undefined>;
}

export interface ConfigWizardContext {
  /** Dataset folders/files found in the workspace, relative to where the config will be saved. */
  datasets: string[];
  /** Model folders found in the workspace (with a config.json), relative likewise. */
  models: string[];
  defaultDevice: string;
  defaultName: string;
}

/** Asks for name, dataset, model, steps and device; undefined when the user cancels at any step. */
export async function configWizard(p: Prompter, ctx: ConfigWizardContext): Promise<TemplateAnswers | undefined> {
  const title = 'New iVGR run config';
  const name = await p.input(title, 'Run name (letters, digits, ".", "_", "-")', ctx.defaultName, checkRunName);
  if (name === undefined) return undefined;
  const dataset = await p.pick<string | null>(
    title,
    [
      { label: 'Synthetic fine-grained set', description: 'generated on first run', value: null },
      ...ctx.datasets.map((d) => ({ label: d, value: d })),
    ],
    'Dataset',
  );
  if (dataset === undefined) return undefined;
  const model = await p.pick<string>(
    title,
    [
      { label: 'Built-in tiny model', description: 'builtin:tiny, runs on CPU', value: 'builtin:tiny' },
      ...ctx.models.map((m) => ({ label: m, value: m })),
    ],
    'Model',
  );
  if (model === undefined) return undefined;
  const steps = await p.input(title, 'RL steps', '40', checkSteps);
  if (steps === undefined) return undefined;
  const device = await p.input(title, 'Device (cpu, cuda, cuda:N, mps)', ctx.defaultDevice, checkDevice);
  if (device === undefined) return undefined;
  return { name: name.trim(), dataset, model, steps: Number(steps), device: device.trim() };
}

export type EvalEngine = 'torch' | 'ort';

export interface EvalRequest {
  checkpoint: number;
  split: string;
  modes: EvalMode[];
  engine: EvalEngine;
}

const MODE_LABELS: Record<EvalMode, string> = {
  textual: 'Textual — plain reasoning, no boxes asked for',
  grounded: 'Mandated grounded — boxes required in the reasoning',
  tool: 'Tool-assisted — the model may zoom into a region',
};

export const ENGINE_NAMES: Record<EvalEngine, string> = { torch: 'PyTorch', ort: 'ONNX Runtime' };

const ENGINE_ITEMS: Record<EvalEngine, { label: string; description: string }> = {
  torch: { label: ENGINE_NAMES.torch, description: 'the Python engine the run trains with' },
  ort: { label: ENGINE_NAMES.ort, description: 'onnxruntime-node in the worker; the checkpoint is exported to ONNX once' },
};

/** The `ivgr eval` flags that pick the engine (and, for ONNX Runtime, its execution provider). */
export function evalEngineArgs(engine: EvalEngine, provider: 'cpu' | 'cuda'): string[] {
  return engine === 'ort' ? ['--engine', 'ort', '--provider', provider] : ['--engine', 'torch'];
}

/** Asks for checkpoint (newest first), split, modes and engine (the default first); undefined on cancel or no mode chosen. */
export async function evalWizard(
  p: Prompter,
  checkpoints: number[],
  splits: string[],
  defaultModes: EvalMode[],
  defaultEngine: EvalEngine = 'torch',
): Promise<EvalRequest | undefined> {
  if (checkpoints.length === 0) return undefined;
  const title = 'Evaluate checkpoint';
  const latest = checkpoints.at(-1);
  const checkpoint = await p.pick(
    title,
    [...checkpoints].reverse().map((s) => ({ label: `step ${s}`, description: s === latest ? 'latest' : undefined, value: s })),
    'Checkpoint',
  );
  if (checkpoint === undefined) return undefined;
  const split = await p.pick(
    title,
    splits.map((s) => ({ label: s, value: s })),
    'Split',
  );
  if (split === undefined) return undefined;
  const modes = await p.pickMany(
    title,
    (Object.keys(MODE_LABELS) as EvalMode[]).map((m) => ({
      label: m,
      description: MODE_LABELS[m],
      value: m,
      picked: defaultModes.includes(m),
    })),
    'Evaluation modes',
  );
  if (!modes || modes.length === 0) return undefined;
  const engines: EvalEngine[] = defaultEngine === 'ort' ? ['ort', 'torch'] : ['torch', 'ort'];
  const engine = await p.pick(
    title,
    engines.map((e) => ({
      label: ENGINE_ITEMS[e].label,
      description: e === defaultEngine ? `${ENGINE_ITEMS[e].description} (default)` : ENGINE_ITEMS[e].description,
      value: e,
    })),
    'Engine',
  );
  if (engine === undefined) return undefined;
  return { checkpoint, split, modes, engine };
}
