/**
 * The zoom tool of tool-assisted evaluation: crops the ORIGINAL image at full
 * resolution (the box is in original pixels) and resizes the crop to the
 * model's input size, so a small region gets the model's whole resolution.
 */
import sharp from 'sharp';
import type { Box } from '../core/types';

/** Writes the crop of `image` at `box` to `out` as PNG; `side` > 0 resizes it to side × side. */
export async function zoomCrop(image: string, box: Box, side: number, out: string): Promise<{ width: number; height: number }> {
  const meta = await sharp(image).metadata();
  const W = meta.width ?? 0;
  const H = meta.height ?? 0;
  if (W === 0 || H === 0) throw new Error(`${image}: cannot read the image size`);
  const x1 = Math.max(0, Math.min(W - 1, Math.floor(box[0])));
  const y1 = Math.max(0, Math.min(H - 1, Math.floor(box[1])));
  const x2 = Math.max(x1 + 1, Math.min(W, Math.ceil(box[2])));
  const y2 = Math.max(y1 + 1, Math.min(H, Math.ceil(box[3])));
  let pipeline = sharp(image).extract({ left: x1, top: y1, width: x2 - x1, height: y2 - y1 });
  if (side > 0) pipeline = pipeline.resize(side, side, { fit: 'fill', kernel: 'lanczos3' });
  const info = await pipeline.png().toFile(out);
  return { width: info.width, height: info.height };
}
