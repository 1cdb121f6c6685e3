/**
 * The ONNX Runtime engine: evaluates a checkpoint exported by the PyTorch engine's `export_onnx`
 * inside Node (onnxruntime-node), without a Python environment. It generates, continues and
 * scores; training operations are the PyTorch engine's.
 */
import type { Engine } from '../engine';
import { OrtEngine } from './ort-engine';

export interface OrtEngineOptions {
  /** An export folder (manifest.json, the ONNX files and tokenizer.json). */
  modelDir: string;
  /** Execution provider (default cpu); cuda needs an onnxruntime-node build that has it. */
  provider?: 'cpu' | 'cuda';
  /** Intra-op threads of each session (default: onnxruntime's choice). */
  threads?: number;
  log?: (line: string) => void;
}

export function createOrtEngine(opts: OrtEngineOptions): Engine {
  return new OrtEngine(opts);
}

export { onnxExportDir, exportCheckpointToOnnx, onnxExportCurrent, checkpointDigest } from './export';
export { OrtEngine } from './ort-engine';
