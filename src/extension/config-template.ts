/**
 * The "new run config" wizard's pure half: checking each answer and writing the config file it
 * produces. The text is validated by the same parser the worker uses before it is saved.
 */
import { stringify } from 'yaml';
import { parseConfigText } from '../run/config-load';

export interface TemplateAnswers {
  name: string;
  /** A dataset folder/file relative to the config file, or null for the generated synthetic set. */
  dataset: string | null;
  /** A model folder relative to the config file, or "builtin:tiny". */
  model: string;
  steps: number;
  device: string;
}

/** Returns an error message for a bad run name, or null. */
export function checkRunName(v: string): string | null {
  if (v.trim() === '') return 'A name is required.';
  return /^[A-Za-z0-9._-]+$/.test(v) ? null : 'Use letters, digits, ".", "_" or "-" only.';
}

export function checkSteps(v: string): string | null {
  if (!/^\d+$/.test(v.trim())) return 'Steps must be a whole number, e.g. 40.';
  const n = Number(v);
  return n >= 1 && n <= 1_000_000 ? null : 'Steps must be between 1 and 1000000.';
}

/** Devices PyTorch accepts: cpu, cuda, cuda:N, mps. */
export function checkDevice(v: string): string | null {
  return /^(cpu|mps|cuda(:\d+)?)$/.test(v.trim()) ? null : 'Device must be cpu, cuda, cuda:N or mps.';
}

/** The config text for the answers, with the fields a user most often changes next spelled out. */
export function configText(a: TemplateAnswers): string {
  const config: Record<string, unknown> = {
    name: a.name,
    model: a.model,
    device: a.device,
    dataset: { path: a.dataset ?? 'data/synthetic' },
    ...(a.dataset === null ? { synthetic: { seed: 7 } } : {}),
    steps: a.steps,
    rewards: { accuracy: 1.0, format: 0.2, grounding: 0.5, consistency: 0.5 },
    checkpointEvery: Math.max(1, Math.min(10, Math.floor(a.steps / 4))),
  };
  const header = [
    '# iVGR run config. Every field not written here has a default (see the docs).',
    '# rewards.consistency: 0 gives the dual-stream baseline without the consistency reward.',
  ].join('\n');
  const text = `${header}\n${stringify(config)}`;
  // A template that the worker would refuse is a bug here, not the user's problem.
  parseConfigText(text, `${a.name}.yaml`);
  return text;
}

export interface ConfigProblem {
  file: string;
  /** 1-based line, when the parser could place the problem. */
  line: number | null;
  field: string | null;
  message: string;
}

/**
 * Splits a config error ("file:line: field: message", one per line, as `parseConfigText` writes
 * them) into problems the editor can jump to.
 */
export function parseConfigProblems(text: string, file: string): ConfigProblem[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const m = l.startsWith(file) ? /^:(\d+)?:?\s*(.*)$/.exec(l.slice(file.length)) : null;
      if (!m) return { file, line: null, field: null, message: l };
      const rest = m[2] ?? '';
      const f = /^([\w.[\]-]+|\(top level\)): (.*)$/.exec(rest);
      return { file, line: m[1] ? Number(m[1]) : null, field: f ? (f[1] ?? null) : null, message: f ? (f[2] ?? rest) : rest };
    });
}
