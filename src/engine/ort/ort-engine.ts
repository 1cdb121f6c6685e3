/** The `Engine` on onnxruntime-node: evaluation only (generate, continue, logprobs). */
import type {
  ContinueRequest, Engine, GeneratedSample, GenerateRequest, GenerateResult, LoadOptions, LogprobsRequest, LogprobsResult,
  ModelInfo, SftResult, UpdateResult,
} from '../engine';
import type { OrtEngineOptions } from './index';

export class OrtEngine implements Engine {
  readonly kind = 'ort' as const;

  constructor(readonly opts: OrtEngineOptions) {}

  load(_options: LoadOptions): Promise<ModelInfo> {
    return Promise.reject(new Error(`ort engine: load of ${this.opts.modelDir} is not available yet`));
  }

  generate(_request: GenerateRequest): Promise<GenerateResult> {
    return Promise.reject(new Error('ort engine: generate is not available yet'));
  }

  continue(_request: ContinueRequest): Promise<GeneratedSample> {
    return Promise.reject(new Error('ort engine: continue is not available yet'));
  }

  logprobs(_request: LogprobsRequest): Promise<LogprobsResult> {
    return Promise.reject(new Error('ort engine: logprobs is not available yet'));
  }

  update(): Promise<UpdateResult> {
    return Promise.reject(evaluationOnly('update'));
  }

  sftStep(): Promise<SftResult> {
    return Promise.reject(evaluationOnly('sft_step'));
  }

  save(): Promise<void> {
    return Promise.reject(evaluationOnly('save'));
  }

  restore(): Promise<{ step: number }> {
    return Promise.reject(evaluationOnly('restore'));
  }

  release(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

function evaluationOnly(op: string): Error {
  return new Error(`ort engine: ${op} is a training operation; the ONNX Runtime engine only evaluates (use the PyTorch engine to train, then export_onnx)`);
}
