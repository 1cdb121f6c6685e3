/** The PyTorch engine: a Python process (python/ivgr_engine) behind JSON-RPC over stdio. */
import type { Engine } from '../engine';
import { TorchEngine, type TorchEngineOptions } from './torch-engine';

export { TorchEngine, type TorchEngineOptions } from './torch-engine';
export { EngineError, type EngineErrorKind } from '../engine';
export { ensureTinyModel, corpusDigest } from './tiny';
export { pythonPath, projectRoot, enginePackageDir } from './python-env';

export function createTorchEngine(opts: TorchEngineOptions): Engine & TorchEngine {
  return new TorchEngine(opts);
}
