/**
 * The TRL dataset of a run: one row per question and stream, in TRL's conversational image
 * format, with the prompts this product's trainer sends (src/worker/prompts.ts). A question's
 * rows are adjacent, grounded first, so the recipe's sampler can keep them in one batch.
 */
import { isAbsolute, join } from 'node:path';
import type { DatasetRecord, Stream } from '../core/types';
import { answerStratum } from '../core/answer-strata';
import { promptInput, promptMessages } from '../worker/prompts';

export interface TrlRow {
  /** The record id: TRL rows of one question share it. */
  question: string;
  stream: Stream;
  /** TRL's conversational format; TRL puts the row's image at the start of the first user turn, where the engine puts it. */
  prompt: Array<{ role: 'system' | 'user'; content: string }>;
  /** Absolute image path, decoded by the Python side. */
  image: string;
  /** The prompt as the rollout records' `input` shows it. */
  input: string;
  /** The record as the scorer reads it (image path as in the dataset, relative to its root). */
  record: Omit<DatasetRecord, 'reference'>;
  /** The question's answer key, written when the run's RL order is answer-balanced. */
  stratum?: string;
}

export function trlRows(records: readonly DatasetRecord[], root: string, streams: readonly Stream[], answerBalanced = false): TrlRow[] {
  const rows: TrlRow[] = [];
  for (const r of records) {
    const record: Omit<DatasetRecord, 'reference'> & { reference?: unknown } = { ...r };
    delete record.reference;
    for (const stream of streams) {
      const messages = promptMessages(stream, r);
      rows.push({
        question: r.id,
        stream,
        prompt: messages.map((m) => ({ role: m.role as 'system' | 'user', content: m.text })),
        image: isAbsolute(r.image) ? r.image : join(root, r.image),
        input: promptInput(messages),
        record,
        ...(answerBalanced ? { stratum: answerStratum(r) } : {}),
      });
    }
  }
  return rows;
}
