/**
 * A panel's Try prompt: one ONNX Runtime runner per panel (replaced when the provider setting
 * changes), progress to the panel and the window (a notification while a checkpoint is exported
 * for the first time), engine lines to the run's log, cancellation by request id. Only in a
 * trusted workspace: it starts the engine.
 */
import * as vscode from 'vscode';
import type { HostMessage, TryPromptRequest } from '../../core/protocol/webview';
import type { RunLogs } from '../run-logs';
import type { RunRegistry } from '../run-registry';
import { openProviderSetting, providerUnavailable, readSettings, workerEnv } from '../settings';
import { TryPromptRunner, tryTargetOf } from '../try-prompt';

export class TryPromptSession {
  private runner: TryPromptRunner | null = null;
  private readonly aborts = new Map<number, AbortController>();

  constructor(
    private readonly runDir: string,
    private readonly registry: RunRegistry,
    private readonly logs: RunLogs,
    private readonly post: (m: HostMessage) => void,
  ) {}

  /** Answers `m` with `tryPromptResult`; throws (the panel shows it in the Try prompt box) when it cannot. */
  async ask(m: TryPromptRequest, imagePathOf: (image: string) => string): Promise<void> {
    if (!vscode.workspace.isTrusted)
      throw new Error('Try prompt runs the model, which an untrusted workspace does not allow. Trust the workspace to use it.');
    const settings = readSettings();
    if (this.runner && this.runner.provider !== settings.ortProvider && !this.runner.running) {
      await this.runner.dispose();
      this.runner = null;
    }
    const run = this.registry.get(this.runDir);
    const channel = await this.logs.channel(this.runDir, run?.id ?? this.runDir);
    const log = (line: string): void => channel.info(`try prompt: ${line}`);
    this.runner ??= new TryPromptRunner({ provider: settings.ortProvider, log });
    const runner = this.runner;
    const imagePath = imagePathOf(m.image);
    const python = workerEnv(settings).IVGR_PYTHON;
    const target = tryTargetOf(this.runDir, m.checkpoint, { ...(python ? { python } : {}), log });
    const firstExport = await runner.needsExport(target.checkpointDir);
    const abort = new AbortController();
    this.aborts.set(m.requestId, abort);
    try {
      const location = firstExport ? vscode.ProgressLocation.Notification : vscode.ProgressLocation.Window;
      const result = await vscode.window.withProgress({ location, title: `iVGR: Try prompt on step ${target.checkpoint}` }, (progress) =>
        runner.run(
          target,
          { imagePath, image: m.image, question: m.question, kind: m.kind, maxTokens: target.maxTokens },
          (message) => {
            progress.report({ message: message.slice(0, 120) });
            this.post({ type: 'tryPromptProgress', requestId: m.requestId, message });
          },
          abort.signal,
        ),
      );
      this.post({ type: 'tryPromptResult', requestId: m.requestId, result });
    } catch (err) {
      if (abort.signal.aborted) throw new Error('Cancelled.');
      const message = err instanceof Error ? err.message : String(err);
      log(message);
      if (providerUnavailable(message)) {
        void vscode.window
          .showErrorMessage(
            `iVGR: Try prompt cannot use the ${settings.ortProvider} provider of ONNX Runtime (setting ivgr.ort.provider): ${message}`,
            'Open Setting',
          )
          .then((a) => a && openProviderSetting());
      }
      throw err;
    } finally {
      this.aborts.delete(m.requestId);
    }
  }

  cancel(requestId: number): void {
    this.aborts.get(requestId)?.abort();
  }

  dispose(): void {
    for (const a of this.aborts.values()) a.abort();
    void this.runner?.dispose();
  }
}
