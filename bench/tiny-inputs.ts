/**
 * Inputs of the benchmarks that run the built-in tiny model: the corpus its tokenizer is built
 * from and PNG images of coloured squares, 448×448.
 */
import { join } from 'node:path';
import sharp from 'sharp';

/** Questions and grounded answers; with `textual`, each question's answer without boxes too. */
export function tinyCorpus(opts: { textual: boolean }): string[] {
  const colors = ['red', 'blue', 'green', 'yellow'];
  const shapes = ['square', 'circle', 'triangle', 'star'];
  const lines: string[] = [];
  for (let i = 0; i < 400; i++) {
    const c = colors[i % 4]!;
    const s = shapes[(i >> 2) % 4]!;
    lines.push(`Question ${i}: what color is the small ${s} near the corner? (A) red (B) blue (C) green (D) yellow`);
    lines.push(
      `<think>The ${s} <box>[${(i * 37) % 900},${(i * 53) % 900},${((i * 37) % 900) + 60},${((i * 53) % 900) + 60}]</box> is ${c}.</think><answer>A</answer>`,
    );
    if (opts.textual) lines.push(`<think>The ${s} near the corner looks ${c}.</think><answer>A</answer>`);
  }
  return lines;
}

/** Writes `count` images as `dir`/img<i>.png and returns their paths. */
export async function squareImages(dir: string, count: number): Promise<string[]> {
  const fills = ['#d22', '#22d', '#2a2', '#dd2'];
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const squares = Array.from(
      { length: 6 },
      (_, k) =>
        `<rect x="${(k * 71 + i * 29) % 400}" y="${(k * 113 + i * 41) % 400}" width="32" height="32" fill="${fills[(k + i) % 4]}"/>`,
    ).join('');
    const file = join(dir, `img${i}.png`);
    await sharp(
      Buffer.from(
        `<svg xmlns="http://www.w3.org/2000/svg" width="448" height="448"><rect width="448" height="448" fill="#eee"/>${squares}</svg>`,
      ),
    )
      .png()
      .toFile(file);
    out.push(file);
  }
  return out;
}
