/**
 * The ONNX Runtime engine: evaluates a checkpoint exported by the PyTorch engine's `export_onnx`
 * inside Node (onnxruntime-node), without a Python environment. It generates, continues and
 * scores; training operations are the PyTorch engine's.
 */
import type { Engine } from '../engine';
import { OrtEngine, type OrtEngineOptions } from './ort-engine';

export function createOrtEngine(opts: OrtEngineOptions): Engine {
  return new OrtEngine(opts);
}

export { onnxExportDir, exportCheckpointToOnnx, onnxExportCurrent, checkpointDigest } from './export';
export { OrtEngine, type OrtEngineOptions } from './ort-engine';
