/** The `Engine` backed by the Python/PyTorch engine process. */
import type { z } from 'zod';
import {
  describeIssue,
  engineMethods,
  engineProtocolMismatch,
  type EngineMethod,
  type EngineParams,
  type EngineResult,
} from '../../core/protocol/engine';
import type {
  CallOptions,
  ContinueRequest,
  Engine,
  GeneratedSample,
  GenerateRequest,
  GenerateResult,
  LoadOptions,
  LogprobsRequest,
  LogprobsResult,
  ModelInfo,
  SftRequest,
  SftResult,
  UpdateRequest,
  UpdateResult,
} from '../engine';
import { EngineProcess } from './engine-process';
import { EngineError } from '../engine';
import { enginePackageDir, pythonPath } from './python-env';

export interface TorchEngineOptions {
  /** Python interpreter; default: $IVGR_PYTHON, the project's .venv, python3. */
  python?: string;
  /** Working directory of the engine process (relative model paths resolve against it). */
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Receives each line the engine logs (stderr). */
  log: (line: string) => void;
  /** Default per-call timeout in ms (none when absent); `CallOptions.timeoutMs` overrides it. */
  timeoutMs?: number;
  /** Start under torchrun with these arguments, e.g. `['--nproc_per_node', '2']`; rank 0 answers. */
  torchrun?: string[];
}

export class TorchEngine implements Engine {
  readonly kind = 'torch' as const;
  private readonly proc: EngineProcess;
  private readonly packageDir: string;

  constructor(private readonly opts: TorchEngineOptions) {
    this.packageDir = enginePackageDir();
    this.proc = new EngineProcess({
      python: opts.python ?? pythonPath(),
      packageDir: this.packageDir,
      log: opts.log,
      ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
      ...(opts.env !== undefined ? { env: opts.env } : {}),
      ...(opts.torchrun !== undefined ? { torchrun: opts.torchrun } : {}),
    });
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get alive(): boolean {
    return this.proc.alive;
  }

  /** Loads the model; refuses an engine whose protocol version differs from this client's. */
  async load(options: LoadOptions, call?: CallOptions): Promise<ModelInfo> {
    const { protocol: _protocol, ...info } = await this.call('load', options, call);
    return info;
  }

  generate(request: GenerateRequest, call?: CallOptions): Promise<GenerateResult> {
    return this.call('generate', request, call);
  }

  continue(request: ContinueRequest, call?: CallOptions): Promise<GeneratedSample> {
    return this.call('continue', request, call);
  }

  update(request: UpdateRequest, call?: CallOptions): Promise<UpdateResult> {
    return this.call('update', request, call);
  }

  sftStep(request: SftRequest, call?: CallOptions): Promise<SftResult> {
    return this.call('sft_step', request, call);
  }

  logprobs(request: LogprobsRequest, call?: CallOptions): Promise<LogprobsResult> {
    return this.call('logprobs', request, call);
  }

  async save(dir: string, step: number): Promise<void> {
    await this.call('save', { dir, step });
  }

  restore(dir: string): Promise<{ step: number }> {
    return this.call('restore', { dir });
  }

  /** Writes the loaded weights as ONNX into `dir` for the ORT engine; `source` goes into its manifest. */
  exportOnnx(dir: string, source?: string): Promise<{ files: string[] }> {
    return this.call('export_onnx', source === undefined ? { dir } : { dir, source });
  }

  async release(rolloutIds: string[]): Promise<void> {
    if (rolloutIds.length > 0) await this.call('release', { rolloutIds });
  }

  /** Each rank's weight hash (torch engine only): equal entries mean the replicas are in sync. */
  digest(): Promise<{ step: number; ranks: string[] }> {
    return this.call('digest', {});
  }

  /** Asks the process to exit; kills it if it does not within the grace period. */
  shutdown(): Promise<void> {
    return this.proc.stop();
  }

  /** Ends the process at once. */
  kill(): void {
    this.proc.kill();
  }

  private async call<M extends EngineMethod>(method: M, params: EngineParams<M>, call?: CallOptions): Promise<EngineResult<M>> {
    const spec = engineMethods[method];
    const sent = (spec.params as z.ZodType).safeParse(params);
    if (!sent.success) throw new EngineError(`engine ${method}: invalid request at ${describeIssue(sent.error)}`, 'invalid-params', method);
    const raw = await this.proc.request(method, sent.data as object, call?.timeoutMs ?? this.opts.timeoutMs, call?.signal);
    const mismatch = method === 'load' ? engineProtocolMismatch(raw) : null;
    if (mismatch) {
      throw new EngineError(
        `engine load: ${mismatch}; the engine package at ${this.packageDir} does not match this iVGR Studio: reinstall or update iVGR Studio so that python/ivgr_engine comes from the same version (or point IVGR_ROOT at the matching folder)`,
        'protocol',
        method,
      );
    }
    const got = (spec.result as z.ZodType).safeParse(raw);
    if (!got.success) throw new EngineError(`engine ${method}: unexpected result at ${describeIssue(got.error)}`, 'protocol', method);
    return got.data as EngineResult<M>;
  }
}
