/**
 * What the panel remembers across a reload (VS Code keeps it with getState/setState and hands it
 * to the WebviewPanelSerializer when the window restores). Unknown or malformed saved state falls
 * back to defaults field by field, so an older panel's state never breaks a newer one.
 */
import { z } from 'zod';
import { MAX_COMPARED_RUNS, rolloutFilterSchema, rolloutSortSchema } from '../src/core/protocol/webview';

export const TABS = ['charts', 'rollouts', 'compare', 'eval', 'runs'] as const;
export type TabId = (typeof TABS)[number];

const layers = z.object({ predicted: z.boolean(), evidence: z.boolean(), corrected: z.boolean() });

export const panelStateSchema = z.object({
  v: z.literal(1),
  /** The run this panel shows; the extension's serializer reopens it. */
  runId: z.string().nullable(),
  tab: z.enum(TABS),
  filter: rolloutFilterSchema,
  sort: rolloutSortSchema,
  /** `run`: a sample of another run on the same dataset, opened from Compare. */
  selected: z.object({ kind: z.enum(['rollout', 'eval']), id: z.string(), run: z.string().optional() }).nullable(),
  scrollTop: z.number().nonnegative(),
  smoothing: z.number().min(0).max(0.99),
  layers,
  evalCell: z
    .object({
      checkpoint: z.string(),
      mode: z.enum(['textual', 'grounded', 'tool']),
      engine: z.enum(['torch', 'ort']).optional(),
      dataset: z.string().nullable().optional(),
    })
    .nullable(),
  comparePrompt: z.string().nullable(),
  /** Width of the rollout list in px, as the user dragged it; null: the default share. */
  listWidth: z.number().positive().nullable(),
  /** Ids of the runs checked in the Runs tab, overlaid on this run's charts. */
  comparedRuns: z.array(z.string()).max(MAX_COMPARED_RUNS),
});
export type PanelState = z.infer<typeof panelStateSchema>;

export function defaultState(): PanelState {
  return {
    v: 1,
    runId: null,
    tab: 'charts',
    filter: {},
    sort: { key: 'step', dir: 'desc' },
    selected: null,
    scrollTop: 0,
    smoothing: 0.6,
    layers: { predicted: true, evidence: true, corrected: true },
    evalCell: null,
    comparePrompt: null,
    listWidth: null,
    comparedRuns: [],
  };
}

/** Restores saved state, keeping every field that is still valid. */
export function restoreState(saved: unknown): PanelState {
  const base = defaultState();
  if (!saved || typeof saved !== 'object') return base;
  const out: Record<string, unknown> = { ...base };
  const shape = panelStateSchema.shape;
  for (const key of Object.keys(shape) as (keyof PanelState)[]) {
    const r = shape[key].safeParse((saved as Record<string, unknown>)[key]);
    if (r.success) out[key] = r.data;
  }
  return panelStateSchema.parse(out);
}
