/**
 * Models that ship with iVGR Studio. `builtin:ivgr-tiny` is the perception-pretrained tiny
 * Qwen2.5-VL in models/ivgr-tiny (made by `ivgr pretrain configs/pretrain-tiny.yaml`), the
 * starting point of the demo; `builtin:tiny` is the same architecture from random weights,
 * built per corpus (tiny.ts).
 */
import { join } from 'node:path';
import { projectRoot } from './python-env';

export const RANDOM_TINY = 'builtin:tiny';
export const PRETRAINED_TINY = 'builtin:ivgr-tiny';

/** The folder of a shipped model name, or null when `model` is not one. */
export function shippedModelDir(model: string): string | null {
  return model === PRETRAINED_TINY ? join(projectRoot(), 'models', 'ivgr-tiny') : null;
}

/** Whether `model` names a built-in model (whose boxes are written in qwen2-1000). */
export function isBuiltinModel(model: string): boolean {
  return model === RANDOM_TINY || model === PRETRAINED_TINY;
}
