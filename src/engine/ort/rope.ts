/**
 * Multimodal rotary positions (M-RoPE) of Qwen2-VL-family models, as transformers'
 * `get_rope_index` computes them for still images: text tokens count up on all three rows
 * (time, height, width); an image's tokens sit on its merged patch grid starting at the current
 * position, and the text after it continues from there plus the grid's longer side.
 */

export interface RopePositions {
  /** Three rows of `ids.length` positions: time, height, width. */
  rows: [Int32Array, Int32Array, Int32Array];
  /** Position of the next token appended after `ids`. */
  next: number;
}

/** `grids` are the images' patch grids (frames, rows, columns), in the order their tokens appear. */
export function ropePositions(
  ids: readonly number[],
  imageToken: number,
  grids: readonly (readonly [number, number, number])[],
  mergeSize: number,
): RopePositions {
  const n = ids.length;
  const rows: [Int32Array, Int32Array, Int32Array] = [new Int32Array(n), new Int32Array(n), new Int32Array(n)];
  let pos = 0;
  let image = 0;
  let i = 0;
  while (i < n) {
    if (ids[i] !== imageToken) {
      rows[0][i] = rows[1][i] = rows[2][i] = pos++;
      i++;
      continue;
    }
    const grid = grids[image++];
    if (!grid) throw new Error(`rope positions: more image token runs than the ${grids.length} image grid(s) given`);
    const [t, gh, gw] = grid;
    const h = Math.floor(gh / mergeSize);
    const w = Math.floor(gw / mergeSize);
    const count = t * h * w;
    for (let ti = 0; ti < t; ti++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const j = i + (ti * h + y) * w + x;
          if (j >= n || ids[j] !== imageToken)
            throw new Error(`rope positions: an image of ${count} tokens has fewer image tokens in the prompt`);
          rows[0][j] = pos + ti;
          rows[1][j] = pos + y;
          rows[2][j] = pos + x;
        }
      }
    }
    i += count;
    pos += Math.max(h, w);
  }
  if (image !== grids.length) throw new Error(`rope positions: ${grids.length} image grid(s) but ${image} image token run(s)`);
  return { rows, next: pos };
}
