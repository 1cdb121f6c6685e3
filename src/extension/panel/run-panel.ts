/**
 * One run's panel: the webview set up on the run's folders, the panel's validated messages routed
 * to the run's files (rollout query service, event files, image cache) and answered through the
 * request → reply table of the protocol, the run followed live. Controls go through the commands,
 * so they ask and check trust exactly as the palette does.
 */
import * as vscode from 'vscode';
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  parsePanelMessage,
  type HostMessage,
  type PanelStatus,
  type PanelMessage,
  type PanelReply,
  type PanelRequestType,
} from '../../core/protocol/webview';
import { PROTOCOL_VERSION } from '../../core/protocol/version';
import type { Box } from '../../core/types';
import { RolloutQueryService } from '../../run/rollout-query';
import { loadRunEvidence, readRunFiles, type RunFiles } from '../run-files';
import type { RunLogs } from '../run-logs';
import { panelControls } from '../run-display';
import { readEvalSummary, type RunRegistry } from '../run-registry';
import { readSettings } from '../settings';
import { EvalLog, sendMetrics } from './backfill';
import { cellSamples, evalSummaryMessage } from './eval-table';
import { serveImage, serveTile } from './image-cache';
import { panelImagePath } from './image-paths';
import { followRun } from './live-events';
import { makeNonce, panelHtml } from './panel-html';
import { panelRunId } from './panel-restore';
import { QuestionAcrossRuns } from './question-runs';
import { compareRuns } from './run-comparison';
import { TileQueue } from './tile-queue';
import { TryPromptSession } from './try-prompt-session';

export class RunPanel {
  private readonly query: RolloutQueryService;
  private readonly acrossRuns: QuestionAcrossRuns;
  private readonly files: RunFiles;
  private readonly cacheDir: string;
  private readonly evals: EvalLog;
  private readonly tryPrompt: TryPromptSession;
  private readonly tiles = new TileQueue();
  private evidence: Promise<Map<string, { evidence: Box[]; evidenceLabels?: string[] }>> | null = null;
  private sentCheckpoints = '';
  private sentEvalSummary = '';
  /** Whether the webview's page is loaded: a hidden panel's page is torn down and reloads when shown. */
  private live = false;
  /** A comparison asked for while the page was not loaded, shown once it says it is ready. */
  private pendingComparison: string[] | null = null;

  constructor(
    readonly panel: vscode.WebviewPanel,
    readonly runDir: string,
    context: vscode.ExtensionContext,
    private readonly registry: RunRegistry,
    private readonly logs: RunLogs,
    onDispose: () => void,
  ) {
    this.query = new RolloutQueryService(runDir, { onIndexProgress: (p) => this.post({ type: 'indexProgress', ...p }) });
    this.acrossRuns = new QuestionAcrossRuns(runDir);
    this.files = readRunFiles(runDir);
    this.evals = new EvalLog(runDir);
    this.tryPrompt = new TryPromptSession(runDir, registry, logs, (m) => this.post(m));
    this.cacheDir = join(context.globalStorageUri.fsPath, 'images', createHash('sha1').update(runDir).digest('hex').slice(0, 16));
    const roots = [
      join(context.extensionPath, 'dist'),
      join(context.extensionPath, 'media'),
      runDir,
      this.cacheDir,
      ...this.files.datasets.map((d) => d.root),
    ];
    panel.webview.options = { enableScripts: true, localResourceRoots: roots.map((r) => vscode.Uri.file(r)) };
    const run = registry.get(runDir);
    panel.title = `iVGR: ${run?.name ?? run?.id ?? runDir}`;
    panel.iconPath = vscode.Uri.file(join(context.extensionPath, 'media', 'ivgr.svg'));
    const asUri = (p: string): string => panel.webview.asWebviewUri(vscode.Uri.file(join(context.extensionPath, 'dist', p))).toString();
    panel.webview.html = panelHtml({
      cspSource: panel.webview.cspSource,
      nonce: makeNonce(),
      scriptUri: asUri('webview.js'),
      styleUri: asUri('webview.css'),
      title: panel.title,
    });
    const onMessage = panel.webview.onDidReceiveMessage((data: unknown) => void this.receive(data));
    const onViewState = panel.onDidChangeViewState((e) => {
      if (!e.webviewPanel.visible) this.live = false;
    });
    const unfollow = followRun(registry, runDir, {
      status: (status) => this.post({ type: 'status', status: this.withControls(status) }),
      metrics: (record) => this.post({ type: 'metrics', records: [record] }),
      rollouts: () => this.sendLiveRollouts(),
      evals: () => this.sendEvalSummary(true),
      annotations: () => this.sendAnnotations(),
      ended: () => this.sendStatus(),
      changed: () => {
        this.sendCheckpoints();
        this.sendEvalSummary();
      },
      error: (message) => this.post({ type: 'error', message }),
    });
    panel.onDidDispose(() => {
      onMessage.dispose();
      onViewState.dispose();
      unfollow();
      this.tryPrompt.dispose();
      onDispose();
    });
  }

  private post(m: HostMessage): void {
    void this.panel.webview.postMessage(m);
  }

  /** Answers a request with the message the protocol pairs with it, carrying its id. */
  private reply<K extends PanelRequestType>(request: { type: K; requestId: number }, answer: Omit<PanelReply<K>, 'requestId'>): void {
    this.post({ ...answer, requestId: request.requestId } as unknown as HostMessage);
  }

  /** Shows the Runs comparison with these runs (ids), as the Compare Runs command chose them. */
  showComparison(runs: string[]): void {
    if (this.live) this.post({ type: 'openRunComparison', runs });
    else this.pendingComparison = runs;
  }

  sendTags(tags: string[]): void {
    this.post({ type: 'tags', tags });
  }

  /** The status with the controls that act on the run in it, decided as the Runs view decides its menus. */
  private withControls(status: Omit<PanelStatus, 'controls'>): PanelStatus {
    const run = this.registry.get(this.runDir);
    const controls = panelControls({ status: status.status, checkpoints: run?.checkpoints ?? [], imported: run?.imported ?? false });
    return { ...status, controls };
  }

  private sendStatus(): void {
    const run = this.registry.get(this.runDir);
    if (run)
      this.post({
        type: 'status',
        status: this.withControls({
          status: run.status,
          step: run.step,
          totalSteps: run.totalSteps,
          phase: run.phase ?? 'idle',
          message: run.message,
        }),
      });
  }

  private async sendLiveRollouts(): Promise<void> {
    await this.query.refresh();
    this.post({ type: 'liveRollouts', count: this.query.total, latest: await this.query.latest(20) });
  }

  private async sendAnnotations(): Promise<void> {
    await this.query.refresh();
    this.post({ type: 'annotations', records: this.query.annotations() });
  }

  /** Sends everything a freshly loaded panel needs: the run, its metrics so far, rollouts, evals, annotations. */
  private async init(): Promise<void> {
    const run = this.registry.get(this.runDir);
    const status = this.withControls({
      status: run?.status ?? 'stopped',
      step: run?.step ?? 0,
      totalSteps: run?.totalSteps ?? 0,
      phase: run?.phase ?? 'idle',
      message: run?.message,
    });
    const settings = readSettings();
    this.post({
      type: 'init',
      protocol: PROTOCOL_VERSION,
      run: { id: panelRunId(this.runDir, run), ...(run?.name ? { name: run.name } : {}) },
      config: this.files.config,
      status,
      tags: settings.annotationTags,
      maxRows: settings.maxRolloutsInPanel,
      ...(this.files.convention ? { convention: this.files.convention } : {}),
    });
    await sendMetrics(this.runDir, (records, reset) => this.post({ type: 'metrics', records, ...(reset ? { reset: true } : {}) }));
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

  private imagePath(rel: string): string {
    return panelImagePath(this.runDir, this.files, rel);
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
      this.post({
        type: 'error',
        message: err instanceof Error ? err.message : String(err),
        ...('requestId' in m ? { requestId: m.requestId } : {}),
      });
    }
  }

  private async handle(m: PanelMessage): Promise<void> {
    switch (m.type) {
      case 'ready':
        if (m.protocol !== PROTOCOL_VERSION)
          throw new Error(`the panel speaks protocol ${m.protocol}, the extension ${PROTOCOL_VERSION}; reload the window`);
        await this.init();
        this.live = true;
        if (this.pendingComparison) {
          this.post({ type: 'openRunComparison', runs: this.pendingComparison });
          this.pendingComparison = null;
        }
        return;
      case 'queryRollouts': {
        // While the first index build runs, the newest rows come from the file's tail at once.
        const quick = this.query.indexed ? null : await this.query.newestPage(m.filter, m.sort, m.offset, m.limit);
        if (quick) return this.reply(m, { type: 'rolloutsPage', ...quick });
        await this.query.refresh();
        const page = await this.query.query(m.filter, m.sort, m.offset, m.limit);
        return this.reply(m, { type: 'rolloutsPage', total: page.total, offset: page.offset, rows: page.rows });
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
        return this.post({
          type: 'rollout',
          id: m.id,
          ...(m.run ? { run: m.run } : {}),
          record,
          ...(truth ?? {}),
          ...(imageSize ? { imageSize } : {}),
        });
      }
      case 'getImage': {
        const img = await serveImage(this.imagePath(m.path), this.cacheDir, m.maxSide, m.region);
        const uri = this.panel.webview.asWebviewUri(vscode.Uri.file(img.file)).toString();
        return this.reply(m, {
          type: 'image',
          path: m.path,
          uri,
          original: img.original,
          served: img.served,
          ...(m.region ? { region: m.region } : {}),
        });
      }
      case 'getTile': {
        const source = this.imagePath(m.path);
        const ref = { level: m.level, col: m.col, row: m.row };
        this.tiles.add(m.requestId, async () => {
          try {
            const t = await serveTile(source, this.cacheDir, ref);
            const uri = this.panel.webview.asWebviewUri(vscode.Uri.file(t.file)).toString();
            this.reply(m, { type: 'tile', path: m.path, ...ref, uri, rect: t.rect, served: t.served });
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
        const evals = (await this.evals.all()).filter((e) => e.promptId === m.promptId);
        const truth = await this.evidenceFor(m.promptId);
        this.post({
          type: 'compare',
          promptId: m.promptId,
          rollouts: await this.query.forPrompt(m.promptId),
          evals,
          ...(truth ? { evidence: truth.evidence } : {}),
        });
        return this.post({
          type: 'compareRuns',
          promptId: m.promptId,
          runs: await this.acrossRuns.question(m.promptId, this.registry.all()),
        });
      }
      case 'evalSamples': {
        const samples = cellSamples(await this.evals.all(), m);
        return this.reply(m, {
          type: 'evalSamples',
          checkpoint: m.checkpoint,
          mode: m.mode,
          ...(m.engine ? { engine: m.engine } : {}),
          samples,
        });
      }
      case 'tryPrompt':
        return this.tryPrompt.ask(m, (image) => this.imagePath(image));
      case 'cancelTryPrompt':
        return this.tryPrompt.cancel(m.requestId);
      case 'runComparison': {
        const all = this.registry.all();
        const self = all.find((r) => r.dir === this.runDir) ?? { id: panelRunId(this.runDir, undefined), name: null, dir: this.runDir };
        return this.reply(m, { type: 'comparedRuns', ...(await compareRuns(self, all, m.runs)) });
      }
      case 'saveExport': {
        const target = await vscode.window.showSaveDialog({
          defaultUri: vscode.Uri.file(join(this.runDir, 'exports', m.name)),
          filters: m.format === 'png' ? { 'PNG image': ['png'] } : { CSV: ['csv'] },
          title: `Save ${m.name}`,
        });
        if (!target) return this.reply(m, { type: 'exportSaved', path: null });
        await mkdir(dirname(target.fsPath), { recursive: true });
        await writeFile(target.fsPath, m.format === 'png' ? Buffer.from(m.data, 'base64') : m.data);
        return this.reply(m, { type: 'exportSaved', path: target.fsPath });
      }
      case 'control': {
        const command = m.action === 'pause' ? 'ivgr.pauseRun' : m.action === 'resume' ? 'ivgr.resumeRun' : 'ivgr.stopRun';
        await vscode.commands.executeCommand(command, this.runDir);
        return;
      }
    }
  }
}
