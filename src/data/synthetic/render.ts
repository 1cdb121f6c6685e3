/** Renders scenes to PNG with sharp (librsvg for the SVG). */
import sharp from 'sharp';
import type { Scene } from './scene';
import { sceneSvg, type TextMode } from './svg';

let probed: Promise<TextMode> | undefined;

/**
 * Whether librsvg can draw text with a system font here. Checked once by
 * rendering a word and counting dark pixels; without fonts, text draws nothing.
 */
export function detectTextMode(): Promise<TextMode> {
  probed ??= (async () => {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="96" height="40"><rect width="96" height="40" fill="#fff"/><text x="48" y="30" font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif" font-weight="bold" font-size="28" text-anchor="middle" fill="#000">HXM</text></svg>`;
    try {
      const { data } = await sharp(Buffer.from(svg)).greyscale().raw().toBuffer({ resolveWithObject: true });
      let dark = 0;
      for (const v of data) if (v < 100) dark++;
      return dark > 150 ? 'font' : 'glyphs';
    } catch {
      return 'glyphs';
    }
  })();
  return probed;
}

/** PNG bytes of a scene. Low zlib effort: these images are rendered often and stored locally. */
export async function renderScene(scene: Scene, textMode: TextMode): Promise<Buffer> {
  return sharp(Buffer.from(sceneSvg(scene, textMode)), { limitInputPixels: false })
    .png({ compressionLevel: 3, adaptiveFiltering: false })
    .toBuffer();
}
