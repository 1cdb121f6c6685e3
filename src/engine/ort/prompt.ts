/**
 * Chat prompts in the Qwen-VL format, as the PyTorch engine writes them (python/ivgr_engine/
 * prompts.py): `<image>` in a message marks where the next image goes; without any, all images
 * go at the start of the first user message.
 */
import type { ChatMessage } from '../engine';

export const IMAGE_PLACEHOLDER = '<image>';
export const VISION = '<|vision_start|><|image_pad|><|vision_end|>';
const RESERVED = ['<|image_pad|>', '<|video_pad|>', '<|vision_start|>', '<|vision_end|>', '<|vision_pad|>'];

/** Thrown for a prompt the model cannot take; `where` names the request field. */
export class PromptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PromptError';
  }
}

export function chatText(messages: readonly ChatMessage[], nImages: number, defaultSystem: string, where: string): string {
  if (messages.length === 0) throw new PromptError(`${where}.messages: expected at least 1 message`);
  messages.forEach((m, i) => {
    for (const token of RESERVED) {
      if (m.text.includes(token))
        throw new PromptError(`${where}.messages[${i}].text contains the reserved token ${token}; images go in 'images'`);
    }
  });
  const placed = messages.reduce((n, m) => n + m.text.split(IMAGE_PLACEHOLDER).length - 1, 0);
  if (placed && placed !== nImages) {
    throw new PromptError(`${where}: the messages have ${placed} '${IMAGE_PLACEHOLDER}' placeholder(s) but ${nImages} image(s) were given`);
  }
  const parts: string[] = [];
  if (messages[0]!.role !== 'system') parts.push(`<|im_start|>system\n${defaultSystem}<|im_end|>\n`);
  let firstUser = true;
  for (const m of messages) {
    let text = m.text.split(IMAGE_PLACEHOLDER).join(VISION);
    if (!placed && m.role === 'user' && firstUser) {
      text = VISION.repeat(nImages) + text;
      firstUser = false;
    }
    parts.push(`<|im_start|>${m.role}\n${text}<|im_end|>\n`);
  }
  if (!placed && firstUser && nImages) throw new PromptError(`${where}: images were given but no user message to attach them to`);
  parts.push('<|im_start|>assistant\n');
  return parts.join('');
}

/** The user turn that carries a tool result image, after the assistant's tool call. */
export function toolTurnText(text: string, ended: boolean): string {
  return `${ended ? '' : '<|im_end|>'}\n<|im_start|>user\n${VISION}${text}<|im_end|>\n<|im_start|>assistant\n`;
}

/** Replaces the i-th image token of `ids` by `counts[i]` copies of it (the image's visual tokens). */
export function expandImageTokens(ids: readonly number[], imageToken: number, counts: readonly number[], where: string): number[] {
  const out: number[] = [];
  let k = 0;
  for (const t of ids) {
    if (t !== imageToken) {
      out.push(t);
      continue;
    }
    if (k >= counts.length) throw new PromptError(`${where}: more image slots than images`);
    for (let j = 0; j < counts[k]!; j++) out.push(t);
    k++;
  }
  if (k !== counts.length) throw new PromptError(`${where}: ${counts.length} image(s) but ${k} image slot(s) in the prompt`);
  return out;
}
