/** Scene → SVG document. Pure string building; every text value is escaped. */
import type { Scene, SceneObject } from './scene';
import { CIRCLE_RADIUS_FRACTION } from './scene';
import { glyphPath } from './glyphs';
import { COLOURS } from './vocabulary';

/** 'font': SVG <text> through system fonts; 'glyphs': the built-in stroke font. */
export type TextMode = 'font' | 'glyphs';

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

const n = (v: number): string => v.toFixed(1);

function objectSvg(o: SceneObject, textMode: TextMode): string {
  const fill = COLOURS[o.colour];
  const outline = `stroke="#1d1d1f" stroke-width="${n(Math.max(1, o.size * 0.05))}" stroke-linejoin="round"`;
  if (o.shape === 'circle')
    return `<circle cx="${n(o.cx)}" cy="${n(o.cy)}" r="${n(o.size * CIRCLE_RADIUS_FRACTION)}" fill="${fill}" ${outline}/>`;
  const polygon = `<polygon points="${o.points.map(([x, y]) => `${n(x)},${n(y)}`).join(' ')}" fill="${fill}" ${outline}/>`;
  if (o.shape !== 'sign') return polygon;
  // A sign: coloured frame, white plate, dark letters, all turned with the sign.
  const border = o.size * 0.16;
  const plateW = 2.4 * o.size - 2 * border;
  const plateH = 1.1 * o.size - 2 * border;
  const word = o.word ?? '';
  const letters =
    textMode === 'font'
      ? `<text x="${n(o.cx)}" y="${n(o.cy + o.size * 0.22)}" font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif" font-weight="bold" font-size="${n(o.size * 0.62)}" text-anchor="middle" fill="#111">${escapeXml(word)}</text>`
      : `<path d="${glyphPath(word, o.cx, o.cy, o.size * 0.55)}" fill="none" stroke="#111" stroke-width="${n(Math.max(1, o.size * 0.09))}" stroke-linecap="round" stroke-linejoin="round"/>`;
  return `${polygon}<g transform="rotate(${n(o.rotation)} ${n(o.cx)} ${n(o.cy)})"><rect x="${n(o.cx - plateW / 2)}" y="${n(o.cy - plateH / 2)}" width="${n(plateW)}" height="${n(plateH)}" fill="#fbfbf8"/>${letters}</g>`;
}

export function sceneSvg(scene: Scene, textMode: TextMode): string {
  const { width: w, height: h } = scene;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">`,
    `<defs><linearGradient id="bg" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="${scene.background[0]}"/><stop offset="1" stop-color="${scene.background[1]}"/></linearGradient></defs>`,
    `<rect width="${w}" height="${h}" fill="url(#bg)"/>`,
  ];
  for (const c of scene.clutter) {
    if (c.kind === 'ellipse') {
      parts.push(
        `<ellipse cx="${n(c.cx)}" cy="${n(c.cy)}" rx="${n(c.rx)}" ry="${n(c.ry)}" transform="rotate(${n(c.rotation)} ${n(c.cx)} ${n(c.cy)})" fill="${c.colour}" fill-opacity="${c.opacity.toFixed(2)}"/>`,
      );
    } else if (c.kind === 'rect') {
      parts.push(
        `<rect x="${n(c.cx - c.w / 2)}" y="${n(c.cy - c.h / 2)}" width="${n(c.w)}" height="${n(c.h)}" transform="rotate(${n(c.rotation)} ${n(c.cx)} ${n(c.cy)})" fill="${c.colour}" fill-opacity="${c.opacity.toFixed(2)}"/>`,
      );
    } else {
      parts.push(
        `<polyline points="${c.points.map(([x, y]) => `${n(x)},${n(y)}`).join(' ')}" fill="none" stroke="${c.colour}" stroke-opacity="${c.opacity.toFixed(2)}" stroke-width="${n(c.width)}" stroke-linecap="round"/>`,
      );
    }
  }
  for (const o of scene.objects) parts.push(objectSvg(o, textMode));
  parts.push('</svg>');
  return parts.join('');
}
