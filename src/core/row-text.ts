/**
 * The text a rollout list line shows: the question asked (the user turn of the prompt, without
 * the system instructions and chat markup) and a stretch of a text around a search match, so a
 * match past the first characters is still on screen.
 */

/** The user's question in a prompt: the last user turn (plain `user:` lines or Qwen chat markup), else the whole prompt. */
export function questionOf(input: string): string {
  const chat = [...input.matchAll(/<\|im_start\|>user\s*([\s\S]*?)(?:<\|im_end\|>|$)/g)].at(-1)?.[1];
  const plain = chat ?? input.split(/^user:\s*/m).at(-1) ?? input;
  // A run of image placeholder tokens is noise in a one-line question.
  return plain
    .replace(/(<\|vision_start\|>)?(<\|image_pad\|>)+(<\|vision_end\|>)?/g, '[image] ')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * At most `chars` characters of `text` on one line: its start, or, when `needle` occurs past what
 * that shows, a window that starts shortly before the first match (marked with a leading "…").
 */
export function snippet(text: string, needle: string | undefined, chars: number): string {
  // Without a needle only the start is shown: long outputs are not collapsed whole.
  const line = (needle ? text : text.slice(0, chars * 2)).replace(/\s+/g, ' ').trim();
  const at = needle ? line.toLowerCase().indexOf(needle.trim().toLowerCase()) : -1;
  if (at < 0 || at + needle!.trim().length <= chars) return line.slice(0, chars);
  const from = Math.max(0, at - 24);
  return `…${line.slice(from, from + chars - 1)}`;
}
