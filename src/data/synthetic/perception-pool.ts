/**
 * Renders perception pools for pretraining: <dir>/<pool>.jsonl (one scene per line with its
 * objects and questions) and <dir>/<pool>/<id>.png (none for a text-only item). A pool already complete with the same
 * settings is kept, so a resumed pretraining run does not draw its scenes again.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CoordConvention } from '../../core/types';
import { GENERATOR_VERSION } from './generate';
import { perceptionItem, type PerceptionSceneSpec } from './perception';
import { detectTextMode, renderScene } from './render';

export interface PoolRequest {
  name: string;
  count: number;
  seed: number;
  spec: PerceptionSceneSpec;
  convention: CoordConvention;
}

function stampOf(r: PoolRequest, textMode: string): string {
  return JSON.stringify([GENERATOR_VERSION, r.seed, r.count, r.spec, r.convention, textMode]);
}

/** Renders the pool unless its stamp says it is already there; returns whether it drew anything. */
export async function ensurePerceptionPool(
  dir: string,
  r: PoolRequest,
  onProgress?: (done: number, total: number) => void,
): Promise<boolean> {
  const textMode = await detectTextMode();
  const stamp = stampOf(r, textMode);
  const stampFile = join(dir, `${r.name}.stamp`);
  try {
    if ((await readFile(stampFile, 'utf8')) === stamp) return false;
  } catch {
    // no stamp: draw the pool
  }
  await mkdir(dir, { recursive: true });
  const lines: string[] = [];
  for (let i = 0; i < r.count; i++) {
    const { item, scene } = perceptionItem(r.seed, r.name, i, r.spec, r.convention);
    if (scene) {
      if (i === 0) await mkdir(join(dir, r.name), { recursive: true });
      const image = `${r.name}/${item.id}.png`;
      await writeFile(join(dir, image), await renderScene(scene, textMode));
      lines.push(JSON.stringify({ ...item, image }));
    } else lines.push(JSON.stringify(item));
    onProgress?.(i + 1, r.count);
  }
  const tmp = join(dir, `${r.name}.jsonl.${process.pid}.tmp`);
  await writeFile(tmp, lines.join('\n') + '\n');
  await rename(tmp, join(dir, `${r.name}.jsonl`));
  await writeFile(stampFile, stamp);
  return true;
}
