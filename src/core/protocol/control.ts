/**
 * Control channel between a client (the extension, or `ivgr` in another terminal) and a running
 * worker. Transport: the worker listens on a Unix domain socket at `<run>/control.sock`; each
 * message is one JSON object per line. A client that connects receives a `hello`, then every
 * `status`, `rollout`, `metrics`, `eval` and `log` event from then on; older events are read from
 * the run's event files (backfill), so nothing is lost across a window reload.
 */
import { z } from 'zod';
import { PROTOCOL_VERSION } from './version';

export const clientMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('pause') }),
  z.object({ type: z.literal('resume') }),
  /** Stops at the next step boundary after writing a checkpoint. */
  z.object({ type: z.literal('stop') }),
  z.object({ type: z.literal('ping') }),
]);
export type ClientMessage = z.infer<typeof clientMessage>;

const runStatus = z.enum(['created', 'running', 'paused', 'stopped', 'crashed', 'finished']);

export const workerStatus = z.object({
  status: runStatus,
  step: z.number().int().nonnegative(),
  totalSteps: z.number().int().nonnegative(),
  /** Phase within the step, for the status bar: "sft", "generate", "score", "update", "eval", "checkpoint", "idle". */
  phase: z.string(),
  /** Latest mean reward per stream. */
  reward: z.object({ grounded: z.number().optional(), textual: z.number().optional() }),
  pid: z.number().int(),
  message: z.string().optional(),
});
export type WorkerStatus = z.infer<typeof workerStatus>;

export const workerMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('hello'), protocol: z.literal(PROTOCOL_VERSION), runId: z.string(), status: workerStatus }),
  z.object({ type: z.literal('status'), status: workerStatus }),
  /** A new line was appended to events/<file>.jsonl; `offset` is its byte offset there. */
  z.object({
    type: z.literal('event'),
    file: z.enum(['rollouts', 'metrics', 'eval', 'annotations']),
    offset: z.number().int().nonnegative(),
    record: z.record(z.string(), z.unknown()),
  }),
  z.object({
    type: z.literal('log'),
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error']),
    source: z.enum(['worker', 'engine']),
    text: z.string(),
  }),
  z.object({ type: z.literal('pong') }),
]);
export type WorkerMessage = z.infer<typeof workerMessage>;

export type ParsedMessage<T> = { ok: true; message: T } | { ok: false; error: string };

function parseLine<T>(schema: z.ZodType<T>, line: string, who: string): ParsedMessage<T> {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return { ok: false, error: `${who} message is not JSON: ${line.slice(0, 120)}` };
  }
  const r = schema.safeParse(json);
  if (r.success) return { ok: true, message: r.data };
  const issue = r.error.issues[0];
  const at = issue && issue.path.length > 0 ? issue.path.join('.') : '(root)';
  return { ok: false, error: `${who} message invalid at ${at}: ${issue?.message ?? 'unknown'}` };
}

export const parseClientMessage = (line: string): ParsedMessage<ClientMessage> => parseLine(clientMessage, line, 'client');
export const parseWorkerMessage = (line: string): ParsedMessage<WorkerMessage> => parseLine(workerMessage, line, 'worker');
