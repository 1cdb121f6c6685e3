/**
 * Prompt templates: one system/user pair per training stream and per
 * evaluation mode. They are short because the embedded tiny model has a small
 * context and learns the formats from the warm start; the last line of the
 * user text is the instruction that tells the streams apart.
 */
import type { ChatMessage } from '../engine/engine';
import type { DatasetRecord, EvalMode, Stream } from '../core/types';

export type PromptKind = Stream | EvalMode;

export const SYSTEM_PROMPT = 'Reason inside <think></think>, then give the answer inside <answer></answer>.';

const INSTRUCTION: Record<PromptKind, string> = {
  grounded: 'Cite each region you look at as <box>[x1,y1,x2,y2]</box>.',
  textual: 'Say in words where you look; write no boxes.',
  tool: 'You may zoom with <tool_call>{"name":"zoom_in","arguments":{"bbox_2d":[x1,y1,x2,y2]}}</tool_call>.',
};

/** The last line of a prompt's user text, which tells the streams and modes apart. */
export function instructionOf(kind: PromptKind): string {
  return INSTRUCTION[kind];
}

export function questionText(record: Pick<DatasetRecord, 'question' | 'options'>): string {
  const options = record.options?.map((o, i) => `${String.fromCharCode(65 + i)}. ${o}`).join(' ');
  return options ? `${record.question} ${options}` : record.question;
}

export function promptMessages(kind: PromptKind, record: Pick<DatasetRecord, 'question' | 'options'>): ChatMessage[] {
  return [
    { role: 'system', text: SYSTEM_PROMPT },
    { role: 'user', text: `${questionText(record)}\n${INSTRUCTION[kind]}` },
  ];
}

/** The text that introduces a zoom crop when the conversation continues. */
export function zoomObservation(box: readonly number[]): string {
  return `Zoomed view of [${box.map((v) => Math.round(v)).join(',')}].`;
}

/** Flattens a prompt for the `input` field of a rollout or eval record. */
export function promptInput(messages: readonly ChatMessage[]): string {
  return messages.map((m) => `${m.role}: ${m.text}`).join('\n');
}

/** The fixed prompt texts, so a tokenizer trained on the corpus knows their words. */
export function promptCorpus(): string[] {
  return [SYSTEM_PROMPT, ...Object.values(INSTRUCTION), zoomObservation([0, 0, 0, 0])];
}
