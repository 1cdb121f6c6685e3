/**
 * A chart as a file: the plot's canvas drawn on the theme background as PNG, or its series as
 * CSV, saved by the extension where the user chooses (`saveExport`).
 */
import type { Host } from './host';

/** The canvas on an opaque background (a plot's canvas is transparent), as base64 PNG. */
export function canvasPng(canvas: HTMLCanvasElement, background: string): string {
  const out = document.createElement('canvas');
  out.width = canvas.width;
  out.height = canvas.height;
  const ctx = out.getContext('2d')!;
  ctx.fillStyle = background;
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.drawImage(canvas, 0, 0);
  return out.toDataURL('image/png').replace(/^data:image\/png;base64,/, '');
}

/** Asks the extension to save the export; resolves to the path written, or null when cancelled. */
export async function saveExport(host: Host, name: string, format: 'png' | 'csv', data: string): Promise<string | null> {
  const m = await host.request({ type: 'saveExport', name, format, data }).reply;
  return m.path;
}
