/**
 * The run panel host: one WebviewPanel per run, restored after a window reload by a serializer.
 * It answers the panel's validated messages from the run's files (rollout query service, event
 * files, image cache) and forwards live worker events; controls go through the commands so they
 * ask and check trust exactly as the palette does.
 */
import * as vscode from 'vscode';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { evalRecordSchema, metricsRecordSchema, parsePanelMessage, type HostMessage, type PanelMessage, type TryPromptRequest } from '../core/protocol/webview';
import { PROTOCOL_VERSION } from '../core/protocol/version';
import type { Box, EvalRecord, MetricsRecord } from '../core/types';
import { resolveInside } from '../data/loaders/resolve';
import { RolloutQueryService } from '../run/rollout-query';
import { readRange } from '../run/jsonl-reader';
import { cellSamples, evalSummaryMessage } from './eval-table';
import { serveImage, serveTile } from './image-cache';
import { makeNonce, panelHtml } from './panel-html';
import { panelRunId, resolvePanelRun } from './panel-restore';
import { QuestionAcrossRuns } from './question-runs';
import { datasetImagePath, loadRunEvidence, readRunFiles, type RunFiles } from './run-files';
import type { RunLogs } from './run-logs';
import { readEvalSummary, type RunRegistry } from './run-registry';
import { openProviderSetting, providerUnavailable, readSettings, workerEnv } from './settings';
import { TileQueue } from './tile-queue';
import { TryPromptRunner, tryTargetOf } from './try-prompt';

export const PANEL_VIEW_TYPE = 'ivgr.run';
const PANEL_RUNS_KEY = 'ivgr.panelRuns';
const METRICS_CHUNK = 2000;

class RunPanel {
  private readonly query: RolloutQueryService;
  private readonly acrossRuns: QuestionAcrossRuns;
  private readonly files: RunFiles;
  private readonly cacheDir: string;
  private evals: EvalRecord[] = [];
  private evalOffset = 0;
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly subscriptions: Array<() => void> = [];
  private evidence: Promise<Map<string, { evidence: Box[]; evidenceLabels?: string[] }>> | null = null;
  private tryRunner: TryPromptRunner | null = null;
  private readonly tryAborts = new Map<number, AbortController>();
  private readonly tiles = new TileQueue();
  private sentCheckpoints = '';
  private sentEvalSummary = '';

  constructor(
    readonly panel: vscode.WebviewPanel,
    readonly runDir: string,
    private readonly context: vscode.ExtensionContext,
    private readonly registry: RunRegistry,
    private readonly logs: RunLogs,
    onDispose: () => void,
  ) {
    this.query = new RolloutQueryService(runDir, { onIndexProgress: (p) => this.post({ type: 'indexProgress', ...p }) });
    this.acrossRuns = new QuestionAcrossRuns(runDir);
    this.files = readRunFiles(runDir);
    this.cacheDir = join(context.globalStorageUri.fsPath, 'images', createHash('sha1').update(runDir).digest('hex').slice(0, 16));
    const roots = [join(context.extensionPath, 'dist'), join(context.extensionPath, 'media'), runDir, this.cacheDir, ...this.files.datasets.map((d) => d.root)];
    panel.webview.options = { enableScripts: true, localResourceRoots: roots.map((r) => vscode.Uri.file(r)) };
    const run = registry.get(runDir);
    panel.title = `iVGR: ${run?.name ?? run?.id ?? runDir}`;
    panel.iconPath = vscode.Uri.file(join(context.extensionPath, 'media', 'ivgr.svg'));
    const asUri = (p: string): string => panel.webview.asWebviewUri(vscode.Uri.file(join(context.extensionPath, 'dist', p))).toString();
    panel.webview.html = panelHtml({ cspSource: panel.webview.cspSource, nonce: makeNonce(), scriptUri: asUri('webview.js'), styleUri: asUri('webview.css'), title: panel.title });
    const onMessage = panel.webview.onDidReceiveMessage((data: unknown) => void this.receive(data));
    this.subscriptions.push(() => onMessage.dispose());
    this.subscriptions.push(registry.on('message', (dir, m) => {
      if (dir !== runDir) return;
      if (m.type === 'status') this.post({ type: 'status', status: m.status });
      if (m.type !== 'event') return;
      if (m.file === 'metrics') {
        const r = metricsRecordSchema.safeParse(m.record);
        if (r.success) this.post({ type: 'metrics', records: [r.data] });
      } else if (m.file === 'rollouts') this.later('rollouts', 400, () => this.sendLiveRollouts());
      else if (m.file === 'eval') this.later('eval', 1000, () => this.sendEvalSummary(true));
      else this.later('annotations', 300, () => this.sendAnnotations());
    }));
    this.subscriptions.push(registry.on('ended', (dir) => {
      if (dir === runDir) this.sendStatus();
    }));
    this.subscriptions.push(registry.on('changed', () => {
      this.sendCheckpoints();
      this.sendEvalSummary();
    }));
    panel.onDidDispose(() => {
      for (const off of this.subscriptions) off();
      for (const t of this.timers.values()) clearTimeout(t);
      for (const a of this.tryAborts.values()) a.abort();
      void this.tryRunner?.dispose();
      onDispose();
    });
  }

  private later(key: string, ms: number, fn: () => Promise<void> | void): void {
    if (this.timers.has(key)) return;
    this.timers.set(key, setTimeout(() => {
      this.timers.delete(key);
      void Promise.resolve(fn()).catch((err: unknown) => this.post({ type: 'error', message: String(err instanceof Error ? err.message : err) }));
    }, ms));
  }

  private post(m: HostMessage): void {
    void this.panel.webview.postMessage(m);
  }

  sendTags(tags: string[]): void {
    this.post({ type: 'tags', tags });
  }

  private sendStatus(): void {
    const run = this.registry.get(this.runDir);
    if (run) this.post({ type: 'status', status: { status: run.status, step: run.step, totalSteps: run.totalSteps, phase: run.phase ?? 'idle', message: run.message } });
  }

  private async sendLiveRollouts(): Promise<void> {
    await this.query.refresh();
    this.post({ type: 'liveRollouts', count: this.query.total, latest: await this.query.latest(20) });
  }

  private async sendAnnotations(): Promise<void> {
    await this.query.refresh();
    this.post({ type: 'annotations', records: this.query.annotations() });
  }

  private async loadEvals(): Promise<EvalRecord[]> {
    for (;;) {
      const chunk = await readRange<Record<string, unknown>>(join(this.runDir, 'events', 'eval.jsonl'), this.evalOffset, 8 << 20, true);
      for (const l of chunk.lines) {
        const r = evalRecordSchema.safeParse(l.record);
        if (r.success) this.evals.push(r.data);
      }
      this.evalOffset = chunk.nextOffset;
      if (chunk.eof) return this.evals;
    }
  }

  /** Sends everything a freshly loaded panel needs: the run, its metrics so far, rollouts, evals, annotations. */
  private async init(): Promise<void> {
    const run = this.registry.get(this.runDir);
    const status = { status: run?.status ?? 'stopped', step: run?.step ?? 0, totalSteps: run?.totalSteps ?? 0, phase: run?.phase ?? 'idle', message: run?.message };
    const settings = readSettings();
    this.post({ type: 'init', protocol: PROTOCOL_VERSION, run: { id: panelRunId(this.runDir, run), ...(run?.name ? { name: run.name } : {}) }, config: this.files.config, status, tags: settings.annotationTags, maxRows: settings.maxRolloutsInPanel, ...(this.files.convention ? { convention: this.files.convention } : {}) });
    let offset = 0;
    let batch: MetricsRecord[] = [];
    let first = true;
    const flush = (): void => {
      this.post({ type: 'metrics', records: batch, ...(first ? { reset: true } : {}) });
      first = false;
      batch = [];
    };
    for (;;) {
      const chunk = await readRange<Record<string, unknown>>(join(this.runDir, 'events', 'metrics.jsonl'), offset, 8 << 20, true);
      for (const l of chunk.lines) {
        const r = metricsRecordSchema.safeParse(l.record);
        if (r.success) batch.push(r.data);
        if (batch.length >= METRICS_CHUNK) flush();
      }
      offset = chunk.nextOffset;
      if (chunk.eof) break;
    }
    flush();
    await this.sendLiveRollouts();
    await this.sendAnnotations();
    this.sendEvalSummary(true);
    this.sendCheckpoints(true);
    if (this.query.warnings.length > 0) {
      const ch = await this.logs.channel(this.runDir, run?.id ?? this.runDir);
      for (const w of this.query.warnings) ch.warn(w);
    }
  }

  /** The evaluation table: on load, and again when an evaluation (from any window or the CLI) rewrites it. */
  private sendEvalSummary(always = false): void {
    const rows = readEvalSummary(this.runDir);
    const key = JSON.stringify(rows);
    if (!always && key === this.sentEvalSummary) return;
    this.sentEvalSummary = key;
    this.post(evalSummaryMessage(rows, this.files));
  }

  /** The run's checkpoint steps, for the Try prompt box: on load, and whenever a new one appears. */
  private sendCheckpoints(always = false): void {
    const steps = this.registry.get(this.runDir)?.checkpoints ?? [];
    const key = steps.join(',');
    if (!always && key === this.sentCheckpoints) return;
    this.sentCheckpoints = key;
    this.post({ type: 'checkpoints', steps });
  }

  /**
   * Runs a Try prompt question on the ONNX Runtime engine: progress goes to the panel and the
   * window (a notification while a checkpoint is exported for the first time), engine lines to
   * the run's log. Only in a trusted workspace: it starts the engine.
   */
  private async tryPrompt(m: TryPromptRequest): Promise<void> {
    if (!vscode.workspace.isTrusted) throw new Error('Try prompt runs the model, which an untrusted workspace does not allow. Trust the workspace to use it.');
    const settings = readSettings();
    if (this.tryRunner && this.tryRunner.provider !== settings.ortProvider && !this.tryRunner.running) {
      await this.tryRunner.dispose();
      this.tryRunner = null;
    }
    const run = this.registry.get(this.runDir);
    const channel = await this.logs.channel(this.runDir, run?.id ?? this.runDir);
    const log = (line: string): void => channel.info(`try prompt: ${line}`);
    this.tryRunner ??= new TryPromptRunner({ provider: settings.ortProvider, log });
    const runner = this.tryRunner;
    const imagePath = this.imagePath(m.image);
    const python = workerEnv(settings).IVGR_PYTHON;
    const target = tryTargetOf(this.runDir, m.checkpoint, { ...(python ? { python } : {}), log });
    const firstExport = await runner.needsExport(target.checkpointDir);
    const abort = new AbortController();
    this.tryAborts.set(m.requestId, abort);
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
        void vscode.window.showErrorMessage(`iVGR: Try prompt cannot use the ${settings.ortProvider} provider of ONNX Runtime (setting ivgr.ort.provider): ${message}`, 'Open Setting').then((a) => a && openProviderSetting());
      }
      throw err;
    } finally {
      this.tryAborts.delete(m.requestId);
    }
  }

  /** Ground-truth boxes by question id, read once from the run's datasets (rollouts do not carry them). */
  private async evidenceFor(promptId: string): Promise<{ evidence: Box[]; evidenceLabels?: string[] } | undefined> {
    if (this.files.datasets.length === 0) return undefined;
    this.evidence ??= loadRunEvidence(this.files).then(async ({ byId, errors }) => {
      if (errors.length > 0) {
        const ch = await this.logs.channel(this.runDir, this.registry.get(this.runDir)?.id ?? this.runDir);
        for (const e of errors) ch.warn(`ground-truth boxes unavailable: ${e}`);
      }
      return byId;
    });
    return (await this.evidence).get(promptId);
  }

  /** A path a record names, resolved inside the run's dataset roots, else inside the run folder (zoom crops). */
  private imagePath(rel: string): string {
    const where: Array<[string, () => string]> = [[this.runDir, () => resolveInside(this.runDir, rel)]];
    if (this.files.datasetRoot) where.unshift([this.files.datasetRoot, () => datasetImagePath(this.files, rel)]);
    let lastError = '';
    for (const [root, resolvePath] of where) {
      try {
        const p = resolvePath();
        if (existsSync(p)) return p;
        lastError = `${rel}: not found under ${root}`;
      } catch (err) {
        lastError = (err as Error).message;
      }
    }
    throw new Error(lastError || `${rel}: the run has no dataset folder`);
  }

  private async receive(data: unknown): Promise<void> {
    const parsed = parsePanelMessage(data);
    if (!parsed.ok) {
      this.post({ type: 'error', message: parsed.error });
      return;
    }
    const m = parsed.message;
    try {
      await this.handle(m);
    } catch (err) {
      this.post({ type: 'error', message: err instanceof Error ? err.message : String(err), ...('requestId' in m ? { requestId: m.requestId } : {}) });
    }
  }

  private async handle(m: PanelMessage): Promise<void> {
    switch (m.type) {
      case 'ready':
        if (m.protocol !== PROTOCOL_VERSION) throw new Error(`the panel speaks protocol ${m.protocol}, the extension ${PROTOCOL_VERSION}; reload the window`);
        return this.init();
      case 'queryRollouts': {
        // While the first index build runs, the newest rows come from the file's tail at once.
        const quick = this.query.indexed ? null : await this.query.newestPage(m.filter, m.sort, m.offset, m.limit);
        if (quick) return this.post({ type: 'rolloutsPage', requestId: m.requestId, ...quick });
        await this.query.refresh();
        const page = await this.query.query(m.filter, m.sort, m.offset, m.limit);
        return this.post({ type: 'rolloutsPage', requestId: m.requestId, total: page.total, offset: page.offset, rows: page.rows });
      }
      case 'getRollout': {
        // Another run's rollout is on the same dataset, so its image and evidence resolve here too.
        const record = m.run ? await this.acrossRuns.rollout(m.run, m.id, this.registry.all()) : await this.query.get(m.id);
        let imageSize: { width: number; height: number } | undefined;
        if (record?.image) {
          const served = await serveImage(this.imagePath(record.image), this.cacheDir, 64).catch(() => null);
          imageSize = served?.original;
        }
        const truth = record ? await this.evidenceFor(record.promptId) : undefined;
        return this.post({ type: 'rollout', id: m.id, ...(m.run ? { run: m.run } : {}), record, ...(truth ?? {}), ...(imageSize ? { imageSize } : {}) });
      }
      case 'getImage': {
        const img = await serveImage(this.imagePath(m.path), this.cacheDir, m.maxSide, m.region);
        const uri = this.panel.webview.asWebviewUri(vscode.Uri.file(img.file)).toString();
        return this.post({ type: 'image', requestId: m.requestId, path: m.path, uri, original: img.original, served: img.served, ...(m.region ? { region: m.region } : {}) });
      }
      case 'getTile': {
        const source = this.imagePath(m.path);
        const ref = { level: m.level, col: m.col, row: m.row };
        this.tiles.add(m.requestId, async () => {
          try {
            const t = await serveTile(source, this.cacheDir, ref);
            const uri = this.panel.webview.asWebviewUri(vscode.Uri.file(t.file)).toString();
            this.post({ type: 'tile', requestId: m.requestId, path: m.path, ...ref, uri, rect: t.rect, served: t.served });
          } catch (err) {
            this.post({ type: 'error', message: err instanceof Error ? err.message : String(err), requestId: m.requestId });
          }
        });
        return;
      }
      case 'dropTiles':
        return this.tiles.drop(m.requestIds);
      case 'annotate':
        await this.query.annotate(m.record);
        return this.sendAnnotations();
      case 'compare': {
        const evals = (await this.loadEvals()).filter((e) => e.promptId === m.promptId);
        const truth = await this.evidenceFor(m.promptId);
        this.post({ type: 'compare', promptId: m.promptId, rollouts: await this.query.forPrompt(m.promptId), evals, ...(truth ? { evidence: truth.evidence } : {}) });
        return this.post({ type: 'compareRuns', promptId: m.promptId, runs: await this.acrossRuns.question(m.promptId, this.registry.all()) });
      }
      case 'evalSamples': {
        const samples = cellSamples(await this.loadEvals(), m);
        return this.post({ type: 'evalSamples', requestId: m.requestId, checkpoint: m.checkpoint, mode: m.mode, ...(m.engine ? { engine: m.engine } : {}), samples });
      }
      case 'tryPrompt':
        return this.tryPrompt(m);
      case 'cancelTryPrompt':
        this.tryAborts.get(m.requestId)?.abort();
        return;
      case 'control': {
        const command = m.action === 'pause' ? 'ivgr.pauseRun' : m.action === 'resume' ? 'ivgr.resumeRun' : 'ivgr.stopRun';
        await vscode.commands.executeCommand(command, this.runDir);
        return;
      }
    }
  }
}

export class PanelHost implements vscode.Disposable {
  private readonly panels = new Map<string, RunPanel>();
  private readonly serializer: vscode.Disposable;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly registry: RunRegistry,
    private readonly logs: RunLogs,
  ) {
    this.serializer = vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel, state: unknown) => {
        const known = context.workspaceState.get<Record<string, string>>(PANEL_RUNS_KEY, {});
        await registry.refresh();
        const dir = resolvePanelRun(state, known, registry.all(), (d) => existsSync(join(d, 'run.json')) || existsSync(join(d, 'events')));
        if (!dir) {
          panel.dispose();
          return;
        }
        registry.addFolder(dir);
        await registry.refresh();
        // Already open (IVGR_OPEN_RUN opens a run on activation): one panel per run.
        if (this.panels.has(dir)) {
          panel.dispose();
          return;
        }
        this.adopt(panel, dir);
      },
    });
  }

  async open(runDir: string): Promise<void> {
    const existing = this.panels.get(runDir);
    if (existing) {
      existing.panel.reveal();
      return;
    }
    const panel = vscode.window.createWebviewPanel(PANEL_VIEW_TYPE, 'iVGR run', vscode.ViewColumn.Active, { enableScripts: true, localResourceRoots: [] });
    this.adopt(panel, runDir);
    // The panel saves the run id in its state; the serializer maps it back to the folder.
    const id = panelRunId(runDir, this.registry.get(runDir));
    const known = this.context.workspaceState.get<Record<string, string>>(PANEL_RUNS_KEY, {});
    await this.context.workspaceState.update(PANEL_RUNS_KEY, { ...known, [id]: runDir });
  }

  /** Sends a changed tag setting to every open panel. */
  setTags(tags: string[]): void {
    for (const p of this.panels.values()) p.sendTags(tags);
  }

  private adopt(panel: vscode.WebviewPanel, runDir: string): void {
    this.panels.set(runDir, new RunPanel(panel, runDir, this.context, this.registry, this.logs, () => this.panels.delete(runDir)));
  }

  dispose(): void {
    this.serializer.dispose();
    for (const p of this.panels.values()) p.panel.dispose();
  }
}
