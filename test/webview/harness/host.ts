/**
 * The harness's stand-in for the extension's panel host: answers the panel's messages from a run
 * directory (generated, or recorded from the worker) with the real RolloutQueryService, serves
 * thumbnails, crops and tiles through the real image cache (src/extension/image-cache.ts), and
 * records every message the panel sent so tests can assert on them.
 */
import { mkdirSync, readFileSync, appendFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  currentAnnotations,
  parsePanelMessage,
  type HostMessage,
  type PanelMessage,
  type TryPromptRequest,
  type TryPromptResult,
} from '../../../src/core/protocol/webview';
import { PROTOCOL_VERSION } from '../../../src/core/protocol/version';
import type { CoordConvention, DatasetRecord, EvalRecord, EvalSummaryRow, MetricsRecord, RolloutRecord } from '../../../src/core/types';
import { resolveInside } from '../../../src/data/loaders/resolve';
import { cellSamples, evalSummaryMessage } from '../../../src/extension/panel/eval-table';
import { serveImage, serveTile } from '../../../src/extension/panel/image-cache';
import { TileQueue } from '../../../src/extension/panel/tile-queue';
import { compareRuns } from '../../../src/extension/panel/run-comparison';
import { QuestionAcrossRuns, type RunRef } from '../../../src/extension/panel/question-runs';
import { panelControls } from '../../../src/extension/run-display';
import { readRunFiles } from '../../../src/extension/run-files';
import { RolloutQueryService } from '../../../src/run/rollout-query';
import { TAGS, type FixturePrompt } from './fixture';

function readJsonl<T>(file: string): T[] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as T);
  } catch {
    return [];
  }
}

export class HarnessHost {
  readonly service: RolloutQueryService;
  private readonly acrossRuns: QuestionAcrossRuns;
  /** Every valid message the panel sent, in order. */
  readonly received: PanelMessage[] = [];
  /** Messages the panel sent that failed validation. */
  readonly invalid: string[] = [];
  private readonly prompts = new Map<string, FixturePrompt>();
  /** How the run's model writes boxes (a generated run's traces are in pixels). */
  private readonly convention: CoordConvention;
  private readonly tiles = new TileQueue();
  /**
   * Answers a Try prompt request, as the extension does with the ORT engine; tests set it. Unset,
   * the harness answers like an extension whose engine cannot start: with an error.
   */
  tryPrompt: ((m: TryPromptRequest, progress: (message: string) => void, signal: AbortSignal) => Promise<TryPromptResult>) | null = null;
  private readonly running = new Map<number, AbortController>();
  private indexGate: Promise<void> = Promise.resolve();

  /** Holds the first index build until the returned function is called, so a test sees the panel before the index is done. */
  holdIndex(): () => void {
    let release = (): void => undefined;
    this.indexGate = new Promise<void>((r) => (release = r));
    return release;
  }

  /** As the extension's panel host does: the index builds in the background from the panel's first message. */
  private async buildIndex(): Promise<void> {
    await this.indexGate;
    await this.service.refresh();
  }

  constructor(
    readonly runDir: string,
    readonly datasetDir: string,
    readonly cacheDir: string,
    /** Base URL under which files of `cacheDir` are served. */
    readonly cacheUrl: string,
    private readonly send: (messages: HostMessage[]) => void,
    /** The other runs of the workspace, as the extension's registry would list them. */
    readonly otherRuns: RunRef[] = [],
  ) {
    this.service = new RolloutQueryService(runDir, { onIndexProgress: (p) => this.send([{ type: 'indexProgress', ...p }]) });
    this.acrossRuns = new QuestionAcrossRuns(runDir);
    for (const p of readJsonl<FixturePrompt>(join(datasetDir, 'dataset.jsonl'))) this.prompts.set(p.id, p);
    // A recorded run's dataset is the worker's own: split files of records with `evidenceLabels`.
    for (const split of ['train', 'val', 'test']) {
      for (const r of readJsonl<DatasetRecord>(join(datasetDir, `${split}.jsonl`)))
        this.prompts.set(r.id, { ...r, labels: r.evidenceLabels ?? [] });
    }
    this.convention = readRunFiles(runDir).convention ?? 'pixels';
    mkdirSync(cacheDir, { recursive: true });
  }

  async handle(data: unknown): Promise<void> {
    const v = parsePanelMessage(data);
    if (!v.ok) {
      this.invalid.push(v.error);
      this.send([{ type: 'error', message: v.error }]);
      return;
    }
    const m = v.message;
    this.received.push(m);
    try {
      const out = await this.answer(m);
      if (out.length > 0) this.send(out);
    } catch (e) {
      this.send([
        { type: 'error', message: e instanceof Error ? e.message : String(e), ...('requestId' in m ? { requestId: m.requestId } : {}) },
      ]);
    }
  }

  private async answer(m: PanelMessage): Promise<HostMessage[]> {
    const s = this.service;
    switch (m.type) {
      case 'ready': {
        await s.refreshAnnotations();
        void this.buildIndex().catch((e: unknown) => this.send([{ type: 'error', message: e instanceof Error ? e.message : String(e) }]));
        let summary: EvalSummaryRow[] = [];
        try {
          summary = (JSON.parse(readFileSync(join(this.runDir, 'eval-summary.json'), 'utf8')) as { rows: EvalSummaryRow[] }).rows;
        } catch {
          summary = [];
        }
        const metrics = readJsonl<MetricsRecord>(join(this.runDir, 'events', 'metrics.jsonl'));
        return [
          {
            type: 'init',
            protocol: PROTOCOL_VERSION,
            run: { id: 'fixture-run', name: 'fixture run' },
            config: readRunFiles(this.runDir).config,
            status: {
              status: 'running',
              step: metrics.length,
              totalSteps: 20,
              phase: 'generate',
              controls: panelControls({ status: 'running', checkpoints: [3, 6], imported: false }),
            },
            tags: TAGS,
            convention: this.convention,
          },
          { type: 'metrics', records: metrics, reset: true },
          evalSummaryMessage(summary, readRunFiles(this.runDir)),
          { type: 'annotations', records: s.annotations() },
          { type: 'checkpoints', steps: [3, 6] },
        ];
      }
      case 'queryRollouts': {
        const quick = s.indexed ? null : await s.newestPage(m.filter, m.sort, m.offset, m.limit);
        if (quick) return [{ type: 'rolloutsPage', requestId: m.requestId, ...quick }];
        await this.buildIndex();
        const page = await s.query(m.filter, m.sort, m.offset, m.limit);
        return [{ type: 'rolloutsPage', requestId: m.requestId, ...page }];
      }
      case 'getRollout': {
        const record = m.run ? await this.acrossRuns.rollout(m.run, m.id, this.otherRuns) : await s.get(m.id);
        const p = record ? this.prompts.get(record.promptId) : undefined;
        return [
          {
            type: 'rollout',
            id: m.id,
            ...(m.run ? { run: m.run } : {}),
            record,
            ...(p ? { evidence: p.evidence, evidenceLabels: p.labels, imageSize: { width: p.width, height: p.height } } : {}),
          },
        ];
      }
      case 'getImage': {
        const img = await serveImage(resolveInside(this.datasetDir, m.path), this.cacheDir, m.maxSide, m.region);
        return [
          {
            type: 'image',
            requestId: m.requestId,
            path: m.path,
            uri: this.uriOf(img.file),
            original: img.original,
            served: img.served,
            ...(m.region ? { region: m.region } : {}),
          },
        ];
      }
      case 'getTile': {
        const source = resolveInside(this.datasetDir, m.path);
        const ref = { level: m.level, col: m.col, row: m.row };
        this.tiles.add(m.requestId, async () => {
          try {
            const t = await serveTile(source, this.cacheDir, ref);
            this.send([
              { type: 'tile', requestId: m.requestId, path: m.path, ...ref, uri: this.uriOf(t.file), rect: t.rect, served: t.served },
            ]);
          } catch (e) {
            this.send([{ type: 'error', message: e instanceof Error ? e.message : String(e), requestId: m.requestId }]);
          }
        });
        return [];
      }
      case 'dropTiles':
        this.tiles.drop(m.requestIds);
        return [];
      case 'annotate':
        await s.annotate(m.record);
        return [{ type: 'annotations', records: s.annotations() }];
      case 'compare': {
        const rollouts: RolloutRecord[] = await s.forPrompt(m.promptId);
        const evals = this.evals().filter((e) => e.promptId === m.promptId);
        return [
          { type: 'compare', promptId: m.promptId, rollouts, evals, evidence: this.prompts.get(m.promptId)?.evidence },
          { type: 'compareRuns', promptId: m.promptId, runs: await this.acrossRuns.question(m.promptId, this.otherRuns) },
        ];
      }
      case 'evalSamples':
        return [
          { type: 'evalSamples', requestId: m.requestId, checkpoint: m.checkpoint, mode: m.mode, samples: cellSamples(this.evals(), m) },
        ];
      case 'tryPrompt': {
        if (!this.tryPrompt) throw new Error('no ONNX Runtime engine in this harness');
        const abort = new AbortController();
        this.running.set(m.requestId, abort);
        try {
          const result = await this.tryPrompt(
            m,
            (message) => this.send([{ type: 'tryPromptProgress', requestId: m.requestId, message }]),
            abort.signal,
          );
          return [{ type: 'tryPromptResult', requestId: m.requestId, result }];
        } finally {
          this.running.delete(m.requestId);
        }
      }
      case 'cancelTryPrompt':
        this.running.get(m.requestId)?.abort(new Error('cancelled'));
        return [];
      case 'runComparison': {
        const self = { id: 'fixture-run', name: 'fixture run', dir: this.runDir };
        return [{ type: 'comparedRuns', requestId: m.requestId, ...(await compareRuns(self, this.otherRuns, m.runs)) }];
      }
      case 'saveExport': {
        // As if the user accepted the offered file in the run's exports folder.
        const file = join(this.runDir, 'exports', m.name);
        mkdirSync(join(this.runDir, 'exports'), { recursive: true });
        writeFileSync(file, m.format === 'png' ? Buffer.from(m.data, 'base64') : m.data);
        return [{ type: 'exportSaved', requestId: m.requestId, path: file }];
      }
      case 'control': {
        const status = m.action === 'pause' ? 'paused' : m.action === 'stop' ? 'stopped' : 'running';
        return [
          {
            type: 'status',
            status: {
              status,
              step: 6,
              totalSteps: 20,
              phase: 'idle',
              controls: panelControls({ status, checkpoints: [3, 6], imported: false }),
            },
          },
        ];
      }
    }
  }

  private evals(): EvalRecord[] {
    return readJsonl<EvalRecord>(join(this.runDir, 'events', 'eval.jsonl'));
  }

  private uriOf(file: string): string {
    return `${this.cacheUrl}/${basename(file)}`;
  }

  /** Appends rollouts to the run as a live worker would, and tells the panel. */
  async appendLive(records: RolloutRecord[]): Promise<void> {
    appendFileSync(join(this.runDir, 'events', 'rollouts.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    await this.service.refresh();
    this.send([{ type: 'liveRollouts', count: this.service.total, latest: await this.service.latest(Math.min(records.length, 8)) }]);
  }

  /** Appends metrics records as a live worker would, and forwards them as the extension does. */
  appendMetrics(records: MetricsRecord[]): void {
    appendFileSync(join(this.runDir, 'events', 'metrics.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    this.send([{ type: 'metrics', records }]);
  }

  /** Sends a changed tag setting, as the extension does when `ivgr.annotation.tags` changes. */
  setTags(tags: string[]): void {
    this.send([{ type: 'tags', tags }]);
  }

  currentAnnotations() {
    return currentAnnotations(readJsonl(join(this.runDir, 'events', 'annotations.jsonl')));
  }
}
