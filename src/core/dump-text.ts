/**
 * Reading the text of external rollout dumps (verl, TRL): collapsing Qwen vision-token runs,
 * finding the question inside a chat-templated prompt, and the boxes an output cites.
 */
import { parseTrace } from './trace';
import type { Box, CoordConvention, ImageSize } from './types';

const PAD_RUN = /(<\|(image|video)_pad\|>)(?:\s*<\|\2_pad\|>)*/g;

/**
 * Replaces each run of `<|image_pad|>` (or `<|video_pad|>`) tokens with one token and its count,
 * `<|image_pad|>×1196`: a prompt decoded with special tokens holds one per visual patch.
 */
export function collapseVisionPads(text: string): string {
  return text.replace(PAD_RUN, (run: string, token: string) => {
    const n = run.split(token).length - 1;
    return `${token}×${n}`;
  });
}

const VISION_BLOCK = /<\|vision_start\|>[\s\S]*?<\|vision_end\|>/g;
const CHAT_TOKENS = /<\|(?:im_start|im_end|endoftext|image_pad|video_pad|vision_start|vision_end)\|>(?:×\d+)?/g;

/** A question as compared across a dump and a dataset: no image markers or chat tokens, whitespace collapsed. */
export function normalizeQuestion(text: string): string {
  return text
    .replace(VISION_BLOCK, ' ')
    .replace(CHAT_TOKENS, ' ')
    .replace(/<image>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * The last user turn of a chat-templated prompt, normalised; the whole prompt normalised when it
 * has no turns. Covers prompts decoded with special tokens (`<|im_start|>user … <|im_end|>`) and
 * without (`user\n … \nassistant\n`).
 */
export function userTurn(prompt: string): string {
  const tagged = [...prompt.matchAll(/<\|im_start\|>user\n?([\s\S]*?)(?:<\|im_end\|>|$)/g)].at(-1);
  if (tagged) return normalizeQuestion(tagged[1]!);
  const plain = /(?:^|\n)user\n([\s\S]*?)\nassistant\n?\s*$/.exec(prompt);
  return normalizeQuestion(plain ? plain[1]! : prompt);
}

/**
 * The boxes an output cites, in pixels of an image of `size`. Qwen2-VL writes
 * `<|box_start|>(x1,y1),(x2,y2)<|box_end|>` on a 0..1000 grid over the image (the default);
 * Qwen2.5-VL writes pixels of its resized input (`qwen25-abs`).
 */
export function dumpOutputBoxes(output: string, size: ImageSize, convention: CoordConvention = 'qwen2-1000'): Box[] {
  return parseTrace(output, { convention, original: size }).boxes;
}
