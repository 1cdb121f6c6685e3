/**
 * Shared record types of the run directory and datasets. Every box in these
 * records is `[x1, y1, x2, y2]` in pixels of the original image.
 */

/** `[x1, y1, x2, y2]` in pixels of the original image, x1 <= x2, y1 <= y2. */
export type Box = [number, number, number, number];

export interface ImageSize {
  width: number;
  height: number;
}

/** The coordinate conventions, the default first: the CLI, the schemas and the wizards list these. */
export const COORD_CONVENTIONS = ['qwen2-1000', 'qwen25-abs', 'relative', 'pixels'] as const;

/** How a model writes coordinates inside its output. */
export type CoordConvention =
  /** Qwen2.5-VL: absolute pixels of the smart-resized model input. */
  | 'qwen25-abs'
  /** Qwen2-VL: integers normalised to 0..1000. */
  | 'qwen2-1000'
  /** 0..1 relative to the image. */
  | 'relative'
  /** Already pixels of the original image. */
  | 'pixels';

export type Stream = 'grounded' | 'textual';

export type EvalMode = 'textual' | 'grounded' | 'tool';

export type QuestionFamily = 'attribute' | 'text' | 'position' | 'count' | 'other';

/** One question of a dataset, as every loader returns it. */
export interface DatasetRecord {
  id: string;
  /** Image path relative to the dataset root. */
  image: string;
  width: number;
  height: number;
  question: string;
  /** Option texts for multiple choice, in order A, B, C, D…; absent for free-form. */
  options?: string[];
  /** The option letter ("A".."D") for multiple choice, else the short free-form answer. */
  answer: string;
  /** Ground-truth evidence boxes in original pixels (may be empty when the source has none). */
  evidence: Box[];
  evidenceLabels?: string[];
  family?: QuestionFamily;
  split?: string;
  /** Reference traces for warm-start SFT (synthetic data only). */
  reference?: { textual: string; grounded: string };
  meta?: Record<string, string | number | boolean>;
}

export type RewardTerm = 'accuracy' | 'format' | 'grounding' | 'consistency' | 'tool';

export interface RewardValue {
  /** Unweighted value of the term, in the range its function documents. */
  value: number;
  /** Weight from the run config at the time of scoring. */
  weight: number;
  /** Human-readable reason, shown in the panel. */
  explanation: string;
}

export type RewardBreakdown = Partial<Record<RewardTerm, RewardValue>>;

/** One line of events/rollouts.jsonl. `input`/`output`/`score`/`step` keep verl/TRL names. */
export interface RolloutRecord {
  v: 1;
  id: string;
  step: number;
  stream: Stream;
  promptId: string;
  /** Index of the sample within its (prompt, stream) group. */
  sample: number;
  input: string;
  output: string;
  /** Total weighted reward. */
  score: number;
  image?: string;
  answer: string | null;
  /** The reference answer where the trainer's dump recorded it (verl's `gts`); engine runs keep it in the dataset. */
  expected?: string;
  correct: boolean;
  /** Boxes cited in the output, original-image pixels. */
  boxes: Box[];
  rewards: RewardBreakdown;
  advantage: number;
  /** Grounded rollout ids that served as consistency references (textual stream only). */
  references?: string[];
  tokens: { prompt: number; completion: number };
  finish: 'stop' | 'length' | 'tool' | 'error';
  time: number;
}

/** One line of events/metrics.jsonl. */
export interface MetricsRecord {
  v: 1;
  step: number;
  time: number;
  /** Mean total reward per stream. */
  reward: Partial<Record<Stream, number>>;
  /** Mean unweighted value per stream and term. */
  terms: Partial<Record<Stream, Partial<Record<RewardTerm, number>>>>;
  accuracy: Partial<Record<Stream, number>>;
  /** Absent in imported dumps, which do not record the update's statistics (charts leave them out). */
  kl?: number;
  clipFraction?: number;
  loss?: number;
  gradNorm?: number;
  responseLength: Partial<Record<Stream, number>>;
  /** Absent in imported dumps, which do not time generation. */
  tokensPerSecond?: number;
  /** Seconds per phase: generate, score, update, write. */
  phases: Record<string, number>;
  highQualityGrounded: number;
  /** Perception pretraining runs only: the curriculum stage, learning rate and each loss term of the step. */
  pretrain?: { stage: string; learningRate: number; losses: Record<string, number> };
  /** Perception pretraining runs only, on evaluation steps: held-out loss and accuracy per `<stage>-val.<task>`. */
  perception?: Record<string, number>;
}

/** One line of events/eval.jsonl. */
export interface EvalRecord {
  v: 1;
  id: string;
  mode: EvalMode;
  checkpoint: string;
  engine: 'torch' | 'ort';
  split: string;
  /** The one dataset of a run with several that this evaluation covered (`ivgr eval --dataset`); absent: all of them. */
  dataset?: string;
  promptId: string;
  image?: string;
  question: string;
  output: string;
  answer: string | null;
  expected: string;
  correct: boolean;
  boxes: Box[];
  evidence: Box[];
  /** Best-match mean IoU of cited or zoomed boxes against evidence; null when no box was produced. */
  iou: number | null;
  toolCalls: number;
  time: number;
}

export type AnnotationTag = string;

/** One line of events/annotations.jsonl. Later records for the same target supersede earlier ones. */
export interface AnnotationRecord {
  v: 1;
  target: { kind: 'rollout' | 'eval'; id: string };
  tags: AnnotationTag[];
  note: string;
  correctedBoxes: Box[];
  time: number;
  /** True when this record withdraws the annotation (undo). */
  deleted?: boolean;
}

/** Summary row of the evaluation table (eval-summary.json). */
export interface EvalSummaryRow {
  checkpoint: string;
  mode: EvalMode;
  engine: 'torch' | 'ort';
  /** As on the eval records: the one dataset evaluated; absent: every dataset of the run. */
  dataset?: string;
  n: number;
  accuracy: number;
  ciLow: number;
  ciHigh: number;
  meanIou: number | null;
  hitRate: number | null;
}

export type RunStatus = 'created' | 'running' | 'paused' | 'stopped' | 'crashed' | 'finished';

/** A character span `[start, end)` into the model output. */
export interface Span {
  start: number;
  end: number;
}

export type Segment =
  | { kind: 'text'; span: Span; region: 'think' | 'answer' | 'other' }
  | { kind: 'tag'; span: Span; name: string }
  | { kind: 'box'; span: Span; box: Box; label?: string; raw: number[] }
  | { kind: 'ref'; span: Span; label: string }
  | { kind: 'tool'; span: Span; name: string; box: Box | null; raw: string };

export interface ToolCall {
  name: string;
  /** Requested region in original pixels, when the call names one and it is valid. */
  box: Box | null;
  span: Span;
}

export interface FormatProblem {
  code: string;
  message: string;
  span?: Span;
}

export interface ParseOptions {
  convention: CoordConvention;
  /** Size of the original image. */
  original: ImageSize;
  /** Size of the model input after resizing (needed for 'qwen25-abs'); defaults to smart-resize of `original`. */
  resized?: ImageSize;
}

/** Result of the total trace parser: it never throws, problems are listed instead. */
export interface ParseResult {
  segments: Segment[];
  think: string | null;
  /** Raw text inside <answer>…</answer> (or the fallback answer line), trimmed. */
  answerText: string | null;
  boxes: Box[];
  toolCalls: ToolCall[];
  problems: FormatProblem[];
}
