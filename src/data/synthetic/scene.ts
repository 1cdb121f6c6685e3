/**
 * Scene layout: a canvas with clutter and a few small target objects. Pure:
 * everything is drawn from the given PRNG, nothing is rendered here.
 */
import type { Box } from '../../core/types';
import type { Prng } from './prng';
import { BACKGROUNDS, CLUTTER_COLOURS, type ColourName, type ShapeName, type SignWord } from './vocabulary';

export type Point = [number, number];

export interface SceneObject {
  shape: ShapeName | 'sign';
  colour: ColourName;
  cx: number;
  cy: number;
  /** Nominal size in pixels (a sign is wider than this). */
  size: number;
  /** Degrees, clockwise. */
  rotation: number;
  word?: SignWord;
  /** Outline in image pixels (empty for circles). */
  points: Point[];
  /** Tight axis-aligned box in integer pixels. */
  box: Box;
}

export type ClutterItem =
  | { kind: 'ellipse'; cx: number; cy: number; rx: number; ry: number; rotation: number; colour: string; opacity: number }
  | { kind: 'rect'; cx: number; cy: number; w: number; h: number; rotation: number; colour: string; opacity: number }
  | { kind: 'line'; points: Point[]; width: number; colour: string; opacity: number };

export interface Scene {
  width: number;
  height: number;
  background: readonly [string, string];
  clutter: ClutterItem[];
  objects: SceneObject[];
}

export interface SceneSizing {
  /**
   * Target size as a fraction of sqrt(width * height), so a target covers the
   * same share of the image whatever the aspect ratio.
   */
  targetScale: number;
  /** Lower bound of the target size in pixels, so targets stay visible on small canvases. */
  minTargetPx: number;
}

export const DEFAULT_SIZING: SceneSizing = { targetScale: 0.04, minTargetPx: 16 };

/** Long-side / short-side aspect ratios the canvases take (landscape or portrait). */
const ASPECTS = [1, 4 / 3, 3 / 4, 3 / 2] as const;

export function pickCanvas(rng: Prng, size: number): { width: number; height: number } {
  const aspect = rng.pick(ASPECTS);
  return aspect >= 1 ? { width: size, height: Math.round(size / aspect) } : { width: Math.round(size * aspect), height: size };
}

export function targetSize(width: number, height: number, sizing: SceneSizing): number {
  return Math.max(sizing.minTargetPx, sizing.targetScale * Math.sqrt(width * height));
}

function rotate(points: Point[], cx: number, cy: number, degrees: number): Point[] {
  const r = (degrees * Math.PI) / 180;
  const c = Math.cos(r);
  const s = Math.sin(r);
  return points.map(([x, y]) => [cx + x * c - y * s, cy + x * s + y * c]);
}

function regular(n: number, radius: number, phase = -Math.PI / 2): Point[] {
  return Array.from({ length: n }, (_, i) => {
    const a = phase + (2 * Math.PI * i) / n;
    return [radius * Math.cos(a), radius * Math.sin(a)] as Point;
  });
}

/** Outline of a shape centred on the origin, before rotation. */
function outline(shape: ShapeName | 'sign', size: number): Point[] {
  const h = size / 2;
  switch (shape) {
    case 'star':
      return Array.from({ length: 10 }, (_, i) => {
        const r = i % 2 === 0 ? h : h * 0.42;
        const a = -Math.PI / 2 + (Math.PI * i) / 5;
        return [r * Math.cos(a), r * Math.sin(a)] as Point;
      });
    case 'circle':
      return [];
    case 'square':
      return [
        [-0.8 * h, -0.8 * h],
        [0.8 * h, -0.8 * h],
        [0.8 * h, 0.8 * h],
        [-0.8 * h, 0.8 * h],
      ];
    case 'triangle':
      return regular(3, h * 1.05);
    case 'diamond':
      return [
        [0, -h],
        [0.62 * h, 0],
        [0, h],
        [-0.62 * h, 0],
      ];
    case 'cross': {
      const a = h / 3;
      return [
        [-a, -h],
        [a, -h],
        [a, -a],
        [h, -a],
        [h, a],
        [a, a],
        [a, h],
        [-a, h],
        [-a, a],
        [-h, a],
        [-h, -a],
        [-a, -a],
      ];
    }
    case 'sign':
      return [
        [-1.2 * size, -0.55 * size],
        [1.2 * size, -0.55 * size],
        [1.2 * size, 0.55 * size],
        [-1.2 * size, 0.55 * size],
      ];
  }
}

export const CIRCLE_RADIUS_FRACTION = 0.45;

/** Builds an object's outline and its tight integer box. */
export function makeObject(o: Omit<SceneObject, 'points' | 'box'>): SceneObject {
  if (o.shape === 'circle') {
    const r = o.size * CIRCLE_RADIUS_FRACTION;
    return { ...o, points: [], box: [Math.floor(o.cx - r), Math.floor(o.cy - r), Math.ceil(o.cx + r), Math.ceil(o.cy + r)] };
  }
  const points = rotate(outline(o.shape, o.size), o.cx, o.cy, o.rotation);
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  return {
    ...o,
    points,
    box: [Math.floor(Math.min(...xs)), Math.floor(Math.min(...ys)), Math.ceil(Math.max(...xs)), Math.ceil(Math.max(...ys))],
  };
}

/** Half-extent of an object's box around its centre (before rotation, generous). */
function reach(shape: ShapeName | 'sign', size: number): number {
  return shape === 'sign' ? 1.35 * size : 0.55 * size;
}

export interface PlacementArea {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

function overlaps(a: Box, b: Box, pad: number): boolean {
  return a[0] - pad < b[2] && b[0] - pad < a[2] && a[1] - pad < b[3] && b[1] - pad < a[3];
}

export class PlacementError extends Error {}

/**
 * Places an object at a random free spot whose centre lies in `area` (default:
 * the whole canvas minus a margin), not touching other objects.
 */
export function placeObject(
  rng: Prng,
  scene: Scene,
  spec: { shape: ShapeName | 'sign'; colour: ColourName; size: number; word?: SignWord },
  area?: PlacementArea,
  accept?: (o: SceneObject) => boolean,
): SceneObject {
  const m = reach(spec.shape, spec.size) + 2;
  const x1 = Math.max(m, area?.x1 ?? 0);
  const y1 = Math.max(m, area?.y1 ?? 0);
  const x2 = Math.min(scene.width - m, area?.x2 ?? scene.width);
  const y2 = Math.min(scene.height - m, area?.y2 ?? scene.height);
  if (x2 <= x1 || y2 <= y1) throw new PlacementError('placement area is smaller than the object');
  for (let attempt = 0; attempt < 400; attempt++) {
    const rotation = spec.shape === 'sign' ? rng.range(-6, 6) : spec.shape === 'circle' ? 0 : rng.range(0, 360);
    const o = makeObject({ ...spec, cx: rng.range(x1, x2), cy: rng.range(y1, y2), rotation });
    if (scene.objects.some((p) => overlaps(p.box, o.box, spec.size * 0.6))) continue;
    if (accept && !accept(o)) continue;
    scene.objects.push(o);
    return o;
  }
  throw new PlacementError('no free spot for an object');
}

/** Background clutter: large muted shapes and lines, far bigger than any target. */
export function makeClutter(rng: Prng, width: number, height: number, target: number): ClutterItem[] {
  const count = Math.round(Math.min(120, Math.max(14, (30 * width * height) / (1024 * 1024))));
  const out: ClutterItem[] = [];
  for (let i = 0; i < count; i++) {
    const colour = rng.pick(CLUTTER_COLOURS);
    const opacity = rng.range(0.25, 0.6);
    const kind = rng.pick(['ellipse', 'rect', 'line'] as const);
    const cx = rng.range(0, width);
    const cy = rng.range(0, height);
    const big = target * rng.range(3, 9);
    if (kind === 'ellipse') out.push({ kind, cx, cy, rx: big, ry: big * rng.range(0.3, 1), rotation: rng.range(0, 180), colour, opacity });
    else if (kind === 'rect')
      out.push({ kind, cx, cy, w: big * 2, h: big * rng.range(0.4, 1.5), rotation: rng.range(0, 90), colour, opacity });
    else {
      const points: Point[] = [[cx, cy]];
      for (let k = 0; k < 3; k++) {
        const [px, py] = points[points.length - 1] as Point;
        points.push([px + rng.range(-1, 1) * big * 2, py + rng.range(-1, 1) * big * 2]);
      }
      out.push({ kind, points, width: target * rng.range(0.15, 0.4), colour, opacity });
    }
  }
  return out;
}

export function emptyScene(rng: Prng, width: number, height: number, target: number): Scene {
  return { width, height, background: rng.pick(BACKGROUNDS), clutter: makeClutter(rng, width, height, target), objects: [] };
}
