/** One LogOutputChannel per run, fed by the worker's `log` messages and backfilled from worker.log. */
import * as vscode from 'vscode';
import type { WorkerMessage } from '../core/protocol/control';
import { tailLines } from '../run/jsonl-reader';
import { runPaths } from '../run/run-dir';

export class RunLogs implements vscode.Disposable {
  private readonly channels = new Map<string, vscode.LogOutputChannel>();

  /** The run's channel, created on first use with the tail of worker.log, so a reload loses no context. */
  async channel(runDir: string, runId: string): Promise<vscode.LogOutputChannel> {
    const existing = this.channels.get(runDir);
    if (existing) return existing;
    const ch = vscode.window.createOutputChannel(`iVGR: ${runId}`, { log: true });
    this.channels.set(runDir, ch);
    const earlier = await tailLines(runPaths(runDir).log, 200);
    if (earlier.length > 0) ch.info(`— last ${earlier.length} lines of worker.log —\n${earlier.join('\n')}`);
    return ch;
  }

  async append(runDir: string, runId: string, m: Extract<WorkerMessage, { type: 'log' }>): Promise<void> {
    const ch = await this.channel(runDir, runId);
    const text = `[${m.source}] ${m.text}`;
    if (m.level === 'error') ch.error(text);
    else if (m.level === 'warn') ch.warn(text);
    else if (m.level === 'debug') ch.debug(text);
    else if (m.level === 'trace') ch.trace(text);
    else ch.info(text);
  }

  async show(runDir: string, runId: string): Promise<void> {
    (await this.channel(runDir, runId)).show(true);
  }

  dispose(): void {
    for (const ch of this.channels.values()) ch.dispose();
    this.channels.clear();
  }
}
