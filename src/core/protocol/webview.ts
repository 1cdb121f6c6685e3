/**
 * Messages between the run panel (webview/) and the extension host that owns it. Both sides
 * validate what they receive with `parsePanelMessage` / `parseHostMessage`: a webview is a
 * separate page, so a message is untrusted data until it matches these schemas.
 */
import { z } from 'zod';
import {
  COORD_CONVENTIONS,
  type AnnotationRecord,
  type EvalRecord,
  type EvalSummaryRow,
  type MetricsRecord,
  type RolloutRecord,
} from '../types';
import { MAX_TILE_LEVEL } from '../tiles';
import { PROTOCOL_VERSION } from './version';

const finite = z.number().refine(Number.isFinite, 'expected a finite number');
export const boxSchema = z.tuple([finite, finite, finite, finite]);
const stream = z.enum(['grounded', 'textual']);
const evalMode = z.enum(['textual', 'grounded', 'tool']);
const rewardTerm = z.enum(['accuracy', 'format', 'grounding', 'consistency', 'tool']);
const runStatus = z.enum(['created', 'running', 'paused', 'stopped', 'crashed', 'finished']);
const requestId = z.number().int().nonnegative();
const engineKind = z.enum(['torch', 'ort']);
const tileRefShape = {
  level: z.number().int().nonnegative().max(MAX_TILE_LEVEL),
  col: z.number().int().nonnegative(),
  row: z.number().int().nonnegative(),
};

const rewardValue = z.object({ value: z.number(), weight: z.number(), explanation: z.string() });

export const rolloutRecordSchema: z.ZodType<RolloutRecord> = z.object({
  v: z.literal(1),
  id: z.string(),
  step: z.number().int(),
  stream,
  promptId: z.string(),
  sample: z.number().int(),
  input: z.string(),
  output: z.string(),
  score: z.number(),
  image: z.string().optional(),
  answer: z.string().nullable(),
  expected: z.string().optional(),
  correct: z.boolean(),
  boxes: z.array(boxSchema),
  rewards: z.partialRecord(rewardTerm, rewardValue),
  advantage: z.number(),
  references: z.array(z.string()).optional(),
  tokens: z.object({ prompt: z.number(), completion: z.number() }),
  finish: z.enum(['stop', 'length', 'tool', 'error']),
  time: z.number(),
});

const perStream = z.partialRecord(stream, z.number());

export const metricsRecordSchema: z.ZodType<MetricsRecord> = z.object({
  v: z.literal(1),
  step: z.number().int(),
  time: z.number(),
  reward: perStream,
  terms: z.partialRecord(stream, z.partialRecord(rewardTerm, z.number())),
  accuracy: perStream,
  kl: z.number().optional(),
  clipFraction: z.number().optional(),
  loss: z.number().optional(),
  gradNorm: z.number().optional(),
  responseLength: perStream,
  tokensPerSecond: z.number().optional(),
  phases: z.record(z.string(), z.number()),
  highQualityGrounded: z.number(),
  pretrain: z.object({ stage: z.string(), learningRate: z.number(), losses: z.record(z.string(), z.number()) }).optional(),
  perception: z.record(z.string(), z.number()).optional(),
});

export const evalRecordSchema: z.ZodType<EvalRecord> = z.object({
  v: z.literal(1),
  id: z.string(),
  mode: evalMode,
  checkpoint: z.string(),
  // Files written before evaluation could run on ONNX Runtime have no engine: PyTorch made them.
  engine: engineKind.default('torch'),
  split: z.string(),
  dataset: z.string().optional(),
  promptId: z.string(),
  image: z.string().optional(),
  question: z.string(),
  output: z.string(),
  answer: z.string().nullable(),
  expected: z.string(),
  correct: z.boolean(),
  boxes: z.array(boxSchema),
  evidence: z.array(boxSchema),
  iou: z.number().nullable(),
  toolCalls: z.number().int(),
  time: z.number(),
});

export const annotationRecordSchema: z.ZodType<AnnotationRecord> = z.object({
  v: z.literal(1),
  target: z.object({ kind: z.enum(['rollout', 'eval']), id: z.string().min(1) }),
  tags: z.array(z.string().min(1).max(64)).max(32),
  note: z.string().max(10_000),
  correctedBoxes: z.array(boxSchema).max(64),
  time: z.number(),
  deleted: z.boolean().optional(),
});

export const evalSummaryRowSchema: z.ZodType<EvalSummaryRow> = z.object({
  checkpoint: z.string(),
  mode: evalMode,
  engine: engineKind.default('torch'),
  dataset: z.string().optional(),
  n: z.number().int().nonnegative(),
  accuracy: z.number(),
  ciLow: z.number(),
  ciHigh: z.number(),
  meanIou: z.number().nullable(),
  hitRate: z.number().nullable(),
});

/** Filters of the rollout browser; every field is optional and they combine with AND. */
export const rolloutFilterSchema = z.object({
  stepMin: z.number().int().optional(),
  stepMax: z.number().int().optional(),
  stream: stream.optional(),
  correct: z.boolean().optional(),
  rewardMin: finite.optional(),
  rewardMax: finite.optional(),
  hasBoxes: z.boolean().optional(),
  /** Rollouts whose current annotation carries any of these tags. */
  tags: z.array(z.string()).max(32).optional(),
  /** Case-insensitive substring of the id, prompt id, input, output or answer. */
  text: z.string().max(200).optional(),
  promptId: z.string().optional(),
});
export type RolloutFilter = z.infer<typeof rolloutFilterSchema>;

export const rolloutSortSchema = z.object({
  key: z.enum(['step', 'score', 'advantage']),
  dir: z.enum(['asc', 'desc']),
});
export type RolloutSort = z.infer<typeof rolloutSortSchema>;

/** One line of the rollout browser: what the list shows without loading the whole record. */
export const rolloutRowSchema = z.object({
  id: z.string(),
  step: z.number().int(),
  stream,
  promptId: z.string(),
  sample: z.number().int(),
  score: z.number(),
  advantage: z.number(),
  correct: z.boolean(),
  answer: z.string().nullable(),
  boxes: z.number().int().nonnegative(),
  /** The start of the output, for the list line (around the first search match when there is one). */
  preview: z.string(),
  /** The question asked, on one line (around the first search match when there is one). */
  question: z.string().optional(),
  tags: z.array(z.string()),
});
export type RolloutRow = z.infer<typeof rolloutRowSchema>;

/** Most other runs the Runs comparison overlays. */
export const MAX_COMPARED_RUNS = 6;

/** Largest chart export the panel sends (a PNG's base64 or a CSV). */
export const MAX_EXPORT_CHARS = 32 * 2 ** 20;

/** Most rows one page request may ask for. */
export const MAX_PAGE = 1000;

/** The prompt formats a "Try prompt" question can be asked in (those of src/worker/prompts.ts). */
export const TRY_PROMPT_KINDS = ['textual', 'grounded'] as const;
export type TryPromptKind = (typeof TRY_PROMPT_KINDS)[number];
/** Longest question the Try prompt box sends. */
export const MAX_TRY_QUESTION = 2000;

/** One question on one image, run by the extension on the ONNX Runtime engine. */
export const tryPromptRequestSchema = z.object({
  type: z.literal('tryPrompt'),
  requestId,
  /** The image as the selected record names it; the host resolves it inside the dataset or run folder. */
  image: z.string().min(1).max(4096),
  question: z
    .string()
    .max(MAX_TRY_QUESTION, `expected at most ${MAX_TRY_QUESTION} characters`)
    .refine((q) => q.trim().length > 0, 'expected a question, got only blanks'),
  kind: z.enum(TRY_PROMPT_KINDS),
  /** Checkpoint step; absent means the run's latest checkpoint. */
  checkpoint: z.number().int().nonnegative().optional(),
});
export type TryPromptRequest = z.infer<typeof tryPromptRequestSchema>;

/** What a Try prompt run produced: the trace, its boxes in original-image pixels and how it was made. */
export const tryPromptResultSchema = z.object({
  engine: engineKind,
  checkpoint: z.number().int().nonnegative(),
  kind: z.enum(TRY_PROMPT_KINDS),
  image: z.string(),
  imageSize: z.object({ width: z.number().positive(), height: z.number().positive() }),
  /** The prompt as the model saw it, flattened (role: text per line). */
  input: z.string(),
  output: z.string(),
  answer: z.string().nullable(),
  boxes: z.array(boxSchema),
  /** How the model writes coordinates, so the trace view reads them as the host did. */
  convention: z.enum(COORD_CONVENTIONS),
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  finish: z.enum(['stop', 'length']),
  seconds: z.number().nonnegative(),
});
export type TryPromptResult = z.infer<typeof tryPromptResultSchema>;

export const panelMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), protocol: z.number().int() }),
  z.object({
    type: z.literal('queryRollouts'),
    requestId,
    filter: rolloutFilterSchema,
    sort: rolloutSortSchema,
    offset: z.number().int().nonnegative(),
    limit: z.number().int().positive().max(MAX_PAGE),
  }),
  /** `run` asks for a rollout of another run on the same dataset, by the id `compareRuns` gave that run. */
  z.object({ type: z.literal('getRollout'), id: z.string(), run: z.string().min(1).optional() }),
  /** Asks for an image (path as the record names it) scaled so its longer side is at most `maxSide`; `region` crops first. */
  z.object({
    type: z.literal('getImage'),
    requestId,
    path: z.string(),
    maxSide: z.number().int().positive().max(16384),
    region: boxSchema.optional(),
  }),
  /** Asks for one tile of the image's pyramid (src/core/tiles.ts): drawn over the thumbnail when zoomed past it. */
  z.object({ type: z.literal('getTile'), requestId, path: z.string(), ...tileRefShape }),
  /** The view moved on: tile requests not yet answered that the host may skip. */
  z.object({ type: z.literal('dropTiles'), requestIds: z.array(requestId).max(1000) }),
  z.object({ type: z.literal('annotate'), record: annotationRecordSchema }),
  z.object({ type: z.literal('compare'), promptId: z.string() }),
  /** The samples of one evaluation table cell; `engine` narrows to the engine that produced them. */
  /** `dataset`: a name, or null for the rows of every dataset; absent: any. */
  z.object({
    type: z.literal('evalSamples'),
    requestId,
    checkpoint: z.string(),
    mode: evalMode,
    engine: engineKind.optional(),
    dataset: z.string().nullable().optional(),
  }),
  z.object({ type: z.literal('control'), action: z.enum(['pause', 'resume', 'stop']) }),
  tryPromptRequestSchema,
  z.object({ type: z.literal('cancelTryPrompt'), requestId }),
  /** The runs to compare with this one (ids from `comparedRuns.candidates`); empty: only the candidates. */
  z.object({ type: z.literal('runComparison'), requestId, runs: z.array(z.string().min(1)).max(MAX_COMPARED_RUNS) }),
  /**
   * Saves a chart export where the user chooses (the run's exports folder offered first): `name`
   * a plain file name, `data` base64 for a PNG, text for CSV.
   */
  z.object({
    type: z.literal('saveExport'),
    requestId,
    name: z.string().regex(/^[\w.-]{1,120}$/, 'a plain file name'),
    format: z.enum(['png', 'csv']),
    data: z.string().max(MAX_EXPORT_CHARS),
  }),
]);
export type PanelMessage = z.infer<typeof panelMessageSchema>;

const imageSize = z.object({ width: z.number().positive(), height: z.number().positive() });

export const runInfoSchema = z.object({ id: z.string(), name: z.string().optional() });

/**
 * The same question in another run on the same dataset: how often that run sampled it, its
 * latest step's rollouts of both streams, and its evaluation samples across checkpoints.
 */
export const otherRunQuestionSchema = z.object({
  run: runInfoSchema,
  /** Rollouts of this question in that run, over all steps. */
  total: z.number().int().nonnegative(),
  /** The latest step that sampled the question; null when the run never did. */
  step: z.number().int().nullable(),
  rollouts: z.array(rolloutRecordSchema),
  evals: z.array(evalRecordSchema),
  /** Why the run could not be read; the other fields are then empty. */
  error: z.string().optional(),
});
export type OtherRunQuestion = z.infer<typeof otherRunQuestionSchema>;

export const statusSchema = z.object({
  status: runStatus,
  step: z.number().int().nonnegative(),
  totalSteps: z.number().int().nonnegative(),
  phase: z.string(),
  message: z.string().optional(),
  /** The header controls that act on the run in this state (none for an imported run; a followed import only stops). */
  controls: z.array(z.enum(['pause', 'resume', 'stop'])).optional(),
});
export type PanelStatus = z.infer<typeof statusSchema>;

/** One run of a Runs comparison; `error` when it could not be read. */
export const comparedRunSchema = z.object({
  id: z.string(),
  name: z.string().optional(),
  metrics: z.array(metricsRecordSchema),
  config: z.record(z.string(), z.unknown()),
  evals: z.array(evalSummaryRowSchema),
  error: z.string().optional(),
});
export type ComparedRun = z.infer<typeof comparedRunSchema>;

export const hostMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('init'),
    protocol: z.literal(PROTOCOL_VERSION),
    run: runInfoSchema,
    config: z.record(z.string(), z.unknown()),
    status: statusSchema,
    /** The configurable failure-tag set offered by the annotation form. */
    tags: z.array(z.string().min(1)),
    /** How the model writes box coordinates, so the trace viewer reads them as the scorer did. */
    convention: z.enum(COORD_CONVENTIONS).optional(),
    /** Most rollout rows the panel keeps in memory (the `ivgr.panel.maxRollouts` setting). */
    maxRows: z.number().int().min(100).optional(),
  }),
  /** The annotation tags changed in the settings: the form and the tag filter offer these from now on. */
  z.object({ type: z.literal('tags'), tags: z.array(z.string().min(1)) }),
  /** Metrics records to append to the charts; `reset` replaces what the panel holds. */
  z.object({ type: z.literal('metrics'), records: z.array(metricsRecordSchema), reset: z.boolean().optional() }),
  /** `counting`: the page came from the run file's tail while the index is still being built, and `total` is an estimate. */
  z.object({
    type: z.literal('rolloutsPage'),
    requestId,
    total: z.number().int().nonnegative(),
    offset: z.number().int().nonnegative(),
    rows: z.array(rolloutRowSchema),
    counting: z.literal(true).optional(),
  }),
  /** The first rollout index build: bytes of events/rollouts.jsonl read of its size; `done` once it is complete. */
  z.object({
    type: z.literal('indexProgress'),
    bytes: z.number().int().nonnegative(),
    size: z.number().int().nonnegative(),
    done: z.boolean(),
  }),
  /** The full record for `getRollout`; `record` is null when the id is unknown. Evidence comes from the dataset. */
  z.object({
    type: z.literal('rollout'),
    id: z.string(),
    /** Set when the rollout comes from another run (as `getRollout` asked). */
    run: z.string().optional(),
    record: rolloutRecordSchema.nullable(),
    evidence: z.array(boxSchema).optional(),
    evidenceLabels: z.array(z.string()).optional(),
    imageSize: imageSize.optional(),
  }),
  /** New rollouts were appended while the run is live: `count` is the run's total so far. */
  z.object({ type: z.literal('liveRollouts'), count: z.number().int().nonnegative(), latest: z.array(rolloutRowSchema) }),
  /** `byDataset`: the run has several datasets, so the table names each row's dataset ("all" for the rows of every one). */
  z.object({ type: z.literal('evalSummary'), rows: z.array(evalSummaryRowSchema), byDataset: z.literal(true).optional() }),
  z.object({
    type: z.literal('evalSamples'),
    requestId,
    checkpoint: z.string(),
    mode: evalMode,
    engine: engineKind.optional(),
    samples: z.array(evalRecordSchema),
  }),
  /** One question's rollouts of both streams (every step), and its evaluation samples across checkpoints. */
  z.object({
    type: z.literal('compare'),
    promptId: z.string(),
    rollouts: z.array(rolloutRecordSchema),
    evals: z.array(evalRecordSchema),
    evidence: z.array(boxSchema).optional(),
  }),
  /** After `compare`: the same question in the other runs of the workspace that use this run's dataset. */
  z.object({ type: z.literal('compareRuns'), promptId: z.string(), runs: z.array(otherRunQuestionSchema) }),
  /** Answer to `getImage`: a URI the webview may load, the original size and the served size. */
  z.object({
    type: z.literal('image'),
    requestId,
    path: z.string(),
    uri: z.string(),
    original: imageSize,
    served: imageSize,
    region: boxSchema.optional(),
  }),
  /** Answer to `getTile`: a URI of the tile and the original-image pixels it covers, clipped at the image edge. */
  z.object({
    type: z.literal('tile'),
    requestId,
    path: z.string(),
    ...tileRefShape,
    uri: z.string(),
    rect: z.object({
      left: z.number().int().nonnegative(),
      top: z.number().int().nonnegative(),
      width: z.number().int().positive(),
      height: z.number().int().positive(),
    }),
    served: imageSize,
  }),
  /** The current annotation per target (latest record wins; withdrawn ones are left out). */
  z.object({ type: z.literal('annotations'), records: z.array(annotationRecordSchema) }),
  z.object({ type: z.literal('status'), status: statusSchema }),
  /** The run's complete checkpoint steps, oldest first (what the Try prompt box offers). */
  z.object({ type: z.literal('checkpoints'), steps: z.array(z.number().int().nonnegative()) }),
  /** A Try prompt run moved on (exporting the checkpoint, loading the engine, generating). */
  z.object({ type: z.literal('tryPromptProgress'), requestId, message: z.string() }),
  z.object({ type: z.literal('tryPromptResult'), requestId, result: tryPromptResultSchema }),
  /**
   * The runs a comparison can take (`candidates`: the workspace's other runs) and, for this run
   * followed by each asked one, its metrics, resolved config and evaluation table.
   */
  z.object({
    type: z.literal('comparedRuns'),
    requestId,
    candidates: z.array(runInfoSchema),
    runs: z.array(comparedRunSchema),
  }),
  /** The Compare Runs command chose these runs: the panel shows its Runs comparison with them. */
  z.object({ type: z.literal('openRunComparison'), runs: z.array(z.string().min(1)).max(MAX_COMPARED_RUNS) }),
  /** Where a chart export was written; null when the user cancelled the save dialog. */
  z.object({ type: z.literal('exportSaved'), requestId, path: z.string().nullable() }),
  z.object({ type: z.literal('error'), message: z.string(), requestId: requestId.optional() }),
]);
export type HostMessage = z.infer<typeof hostMessageSchema>;

/**
 * The panel's requests and the host message that answers each, carrying the request's id; an
 * `error` with that id answers one that failed. The panel awaits them (webview/host.ts `request`),
 * the host answers through the same table, so the pairs cannot drift.
 */
export const PANEL_REPLIES = {
  queryRollouts: 'rolloutsPage',
  getImage: 'image',
  getTile: 'tile',
  evalSamples: 'evalSamples',
  tryPrompt: 'tryPromptResult',
  saveExport: 'exportSaved',
  runComparison: 'comparedRuns',
} as const satisfies Partial<Record<PanelMessage['type'], HostMessage['type']>>;
export type PanelRequestType = keyof typeof PANEL_REPLIES;
/** A request as its sender writes it; the id is added on the way out. */
export type PanelRequest<K extends PanelRequestType> = Omit<Extract<PanelMessage, { type: K }>, 'requestId'> & { type: K };
export type PanelReply<K extends PanelRequestType> = Extract<HostMessage, { type: (typeof PANEL_REPLIES)[K] }>;

export type Validated<T> = { ok: true; message: T } | { ok: false; error: string };

function validate<T>(schema: z.ZodType<T>, data: unknown, who: string): Validated<T> {
  const r = schema.safeParse(data);
  if (r.success) return { ok: true, message: r.data };
  const issue = r.error.issues[0];
  const at = issue && issue.path.length > 0 ? issue.path.join('.') : '(root)';
  const type = data && typeof data === 'object' && 'type' in data ? String((data as { type: unknown }).type) : '?';
  return { ok: false, error: `${who} message "${type}" invalid at ${at}: ${issue?.message ?? 'unknown problem'}` };
}

/** Validates a message the panel sent (used by the extension host). */
export const parsePanelMessage = (data: unknown): Validated<PanelMessage> => validate(panelMessageSchema, data, 'panel');
/** Validates a message the extension host sent (used by the panel). */
export const parseHostMessage = (data: unknown): Validated<HostMessage> => validate(hostMessageSchema, data, 'host');

/** The annotation that is current for each target: the latest record wins, withdrawn targets drop out. */
export function currentAnnotations(records: readonly AnnotationRecord[]): AnnotationRecord[] {
  const latest = new Map<string, AnnotationRecord>();
  for (const r of records) latest.set(`${r.target.kind}:${r.target.id}`, r);
  return [...latest.values()].filter((r) => !r.deleted);
}
