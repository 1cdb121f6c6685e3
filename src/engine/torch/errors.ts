/** Errors the torch engine client raises; `code` is the engine's JSON-RPC error code when it sent one. */
import { ENGINE_ERROR_CODES } from '../../core/protocol/engine';

export type EngineErrorKind =
  | 'not-loaded'
  | 'model-not-found'
  | 'out-of-memory'
  | 'bad-image'
  | 'unknown-rollout'
  | 'checkpoint'
  | 'cancelled'
  | 'invalid-params'
  | 'internal'
  | 'timeout'
  | 'exited'
  | 'spawn'
  | 'protocol';

const BY_CODE = new Map<number, EngineErrorKind>([
  [ENGINE_ERROR_CODES.notLoaded, 'not-loaded'],
  [ENGINE_ERROR_CODES.modelNotFound, 'model-not-found'],
  [ENGINE_ERROR_CODES.outOfMemory, 'out-of-memory'],
  [ENGINE_ERROR_CODES.badImage, 'bad-image'],
  [ENGINE_ERROR_CODES.unknownRollout, 'unknown-rollout'],
  [ENGINE_ERROR_CODES.checkpoint, 'checkpoint'],
  [ENGINE_ERROR_CODES.cancelled, 'cancelled'],
  [ENGINE_ERROR_CODES.invalidParams, 'invalid-params'],
]);

export class EngineError extends Error {
  constructor(
    message: string,
    readonly kind: EngineErrorKind,
    readonly method: string,
    readonly code?: number,
  ) {
    super(message);
    this.name = 'EngineError';
  }

  static fromCode(method: string, code: number, message: string): EngineError {
    return new EngineError(`engine ${method}: ${message}`, BY_CODE.get(code) ?? 'internal', method, code);
  }
}
