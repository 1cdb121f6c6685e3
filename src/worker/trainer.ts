/**
 * The iVGR training loop. Each RL step samples a grounded and a textual group
 * per question (one batched engine generate per stream), scores them with
 * `scoreQuestion` (high-quality grounded traces feed the textual consistency
 * term, advantages per stream group), sends one update, and appends every
 * rollout and the step's metrics to the event files. Pause / stop act at step
 * boundaries, SFT steps of the warm start included; checkpoints hold engine
 * state plus the worker's cursor, PRNG and warm-start position, so a resumed
 * run draws exactly the next step an uninterrupted run would.
 * If the engine dies, in RL or in the warm start, the loop restarts it from the
 * last checkpoint (bounded); a warm start with none yet begins again from the base model.
 */
import { join } from 'node:path';
import { mkdirSync, rmSync } from 'node:fs';
import type { DatasetRecord, RolloutRecord, Stream } from '../core/types';
import type { Engine, GeneratedSample, ModelInfo } from '../engine/engine';
import { scoreQuestion, type ScoredSample, type StreamSample } from '../core/score';
import { DEFAULT_ADVANTAGE_OPTIONS } from '../core/advantages';
import type { RewardConfig } from '../core/rewards';
import { parseOptionsFor } from '../core/trace';
import { answerStratum } from '../core/answer-strata';
import { rewardConfigOf } from '../run/run-rewards';
import type { RunConfig } from '../run/config-schema';
import { configHash } from '../run/config-load';
import { latestCheckpoint, WORKER_STATE_FILE, writeWorkerState, type DataCursor, type WorkerState } from '../run/checkpoints';
import { runPaths } from '../run/run-dir';
import { Prng } from './prng';
import { nextBatch, SftOrder } from './data-cursor';
import { promptInput, promptMessages } from './prompts';
import { stepMetrics } from '../core/step-metrics';
import type { EventSink } from './event-sink';

export interface TrainerHooks {
  log(level: 'info' | 'warn' | 'error', text: string): void;
  /** Phase changes and finished steps, for status lines and the control channel. */
  progress(p: { step: number; phase: string; reward?: Partial<Record<Stream, number>>; message?: string }): void;
  /**
   * Called at every step boundary, before each SFT step of the warm start ('sft') and each RL
   * step ('rl'): a pause checkpoints and waits, 'stop' checkpoints and returns.
   */
  boundary(phase: 'sft' | 'rl'): Promise<'continue' | 'stop'>;
}

/** Starts (or restarts) an engine with the run's model loaded. */
export type EngineStarter = () => Promise<{ engine: Engine; info: ModelInfo }>;

interface LoopState {
  step: number;
  cursor: DataCursor;
  rng: Prng;
  /** SFT steps done while the warm start is unfinished; null once it is done (or not wanted). */
  sftDone: number | null;
}

export class Trainer {
  private engine!: Engine;
  private info!: ModelInfo;
  private state!: LoopState;
  private readonly hash: string;
  private readonly rewards: RewardConfig;
  /** One answer key per training question when RL batches are answer-balanced. */
  private readonly strata: string[] | undefined;
  private restarts = 0;

  constructor(
    private readonly runDir: string,
    private readonly config: RunConfig,
    private readonly train: DatasetRecord[],
    private readonly imageRoot: string,
    private readonly startEngine: EngineStarter,
    private readonly events: EventSink,
    private readonly hooks: TrainerHooks,
  ) {
    this.hash = configHash(config);
    this.rewards = rewardConfigOf(config);
    this.strata = config.batchOrder === 'answer-balanced' ? train.map(answerStratum) : undefined;
    if (train.length === 0) throw new Error('the training split has no questions');
  }

  get modelInfo(): ModelInfo {
    return this.info;
  }

  get currentEngine(): Engine {
    return this.engine;
  }

  get step(): number {
    return this.state.step;
  }

  /** SFT steps done while the warm start is unfinished; null once it is done. */
  get warmStartDone(): number | null {
    return this.state.sftDone;
  }

  /**
   * Loads the model and positions the loop: latest checkpoint (possibly inside the warm start),
   * else `initFrom`, else the warm start's beginning (`run` trains it).
   */
  async open(): Promise<void> {
    const started = await this.startEngine();
    this.engine = started.engine;
    this.info = started.info;
    const latest = latestCheckpoint(this.runDir);
    if (latest) {
      if (latest.state.configHash !== this.hash)
        this.hooks.log('warn', `checkpoint ${latest.step} was written with a different config; resuming with the current one`);
      await this.restoreFrom(latest.dir, latest.state);
      this.hooks.log('info', `resumed from checkpoint ${latest.step}`);
      return;
    }
    this.state = this.initialState(null);
    if (this.config.initFrom) {
      await this.engine.restore(this.config.initFrom);
      this.hooks.log('info', `initialised from ${this.config.initFrom}`);
      await this.checkpoint('sft');
    } else if (this.config.sft.steps > 0) {
      this.state.sftDone = 0;
    } else {
      await this.checkpoint('base');
    }
  }

  /** The position before the first step, as the seed gives it. */
  private initialState(sftDone: number | null): LoopState {
    return { step: 0, cursor: { epoch: 0, index: 0 }, rng: Prng.fromSeed(this.config.seed), sftDone };
  }

  private async restoreFrom(dir: string, s: WorkerState): Promise<void> {
    await this.engine.restore(dir);
    const sftDone = s.warmStart ? s.warmStart.done : null;
    this.state = { step: s.step, cursor: { ...s.cursor }, rng: Prng.fromState(s.rng), sftDone };
    if (sftDone !== null) this.hooks.log('info', `the warm start continues after SFT step ${sftDone}/${this.config.sft.steps}`);
  }

  /**
   * Supervised SFT on the reference traces of both streams, from the step the state says; a stop
   * at a boundary between SFT steps returns 'stopped' (the caller checkpoints there).
   */
  private async warmStart(): Promise<'finished' | 'stopped'> {
    const examples = this.train.flatMap((r) => {
      if (!r.reference) return [];
      const images = [join(this.imageRoot, r.image)];
      return [
        { images, messages: promptMessages('grounded', r), target: r.reference.grounded },
        { images, messages: promptMessages('textual', r), target: r.reference.textual },
      ];
    });
    if (examples.length === 0) {
      this.hooks.log('warn', 'warm start skipped: the training split has no reference traces');
      return 'finished';
    }
    let order = this.sftOrderAt(examples.length);
    let recent: number[] = [];
    while (this.state.sftDone! < this.config.sft.steps) {
      const i = this.state.sftDone!;
      if ((await this.hooks.boundary('sft')) === 'stop') return 'stopped';
      const batch = order.next().map((k) => examples[k]!);
      this.hooks.progress({ step: 0, phase: 'sft', message: `warm start ${i + 1}/${this.config.sft.steps}` });
      let r: { loss: number };
      try {
        r = await this.engine.sftStep({ examples: batch, learningRate: this.config.sft.learningRate, microBatch: this.config.microBatch });
      } catch (err) {
        await this.recover(err, `in the warm start at SFT step ${i + 1}/${this.config.sft.steps}`);
        order = this.sftOrderAt(examples.length);
        recent = [];
        continue;
      }
      this.state.sftDone = i + 1;
      recent.push(r.loss);
      if ((i + 1) % 10 === 0 || i + 1 === this.config.sft.steps) {
        this.hooks.log(
          'info',
          `sft ${i + 1}/${this.config.sft.steps} loss ${(recent.reduce((a, b) => a + b, 0) / recent.length).toFixed(4)}`,
        );
        recent = [];
      }
    }
    return 'finished';
  }

  /** The SFT batch order positioned at the next batch the warm start trains. */
  private sftOrderAt(examples: number): SftOrder {
    const order = new SftOrder(examples, this.config.sft.batchSize, this.config.seed ^ 0x5f7);
    // The order depends only on the seed, so replaying the batches already trained finds the next one.
    for (let i = 0; i < (this.state.sftDone ?? 0); i++) order.next();
    return order;
  }

  /**
   * Writes checkpoints/<step>/ (engine state, then worker-state.json last). Inside the warm start
   * it is checkpoint 0 with phase "sft" and the SFT steps done, replaced when the warm start ends.
   */
  async checkpoint(phase?: WorkerState['phase']): Promise<string> {
    this.hooks.progress({ step: this.state.step, phase: 'checkpoint' });
    const dir = runPaths(this.runDir).checkpoint(this.state.step);
    mkdirSync(dir, { recursive: true });
    // Replacing a checkpoint: without its worker state the folder reads as an interrupted save until the new one is complete.
    rmSync(join(dir, WORKER_STATE_FILE), { force: true });
    await this.engine.save(dir, this.state.step);
    const sftDone = this.state.sftDone;
    writeWorkerState(dir, {
      version: 1,
      step: this.state.step,
      cursor: this.state.cursor,
      rng: this.state.rng.state(),
      configHash: this.hash,
      time: new Date().toISOString(),
      phase: phase ?? (sftDone !== null ? 'sft' : 'rl'),
      ...(sftDone !== null ? { warmStart: { done: sftDone, of: this.config.sft.steps } } : {}),
    });
    return dir;
  }

  /** A checkpoint at the current position (step and SFT steps done) unless the latest one is already there. */
  async checkpointOnce(): Promise<void> {
    const latest = latestCheckpoint(this.runDir);
    if (latest?.step !== this.state.step || (latest.state.warmStart?.done ?? null) !== this.state.sftDone) await this.checkpoint();
  }

  /**
   * Trains what is left of the warm start (then writes checkpoint 0), then RL steps until
   * `config.steps`, a stop request, or too many engine crashes. Returns why it ended.
   */
  async run(): Promise<'finished' | 'stopped'> {
    if (this.state.sftDone !== null) {
      if ((await this.warmStart()) === 'stopped') return 'stopped';
      this.state.sftDone = null;
      await this.checkpoint('sft');
    }
    while (this.state.step < this.config.steps) {
      const action = await this.hooks.boundary('rl');
      if (action === 'stop') return 'stopped';
      try {
        await this.rlStep();
      } catch (err) {
        await this.recover(err);
        continue;
      }
      const every = this.config.checkpointEvery;
      if (every > 0 && this.state.step % every === 0 && this.state.step < this.config.steps) await this.checkpoint();
    }
    return 'finished';
  }

  /**
   * Restarts a failed engine (bounded by `maxRestarts`) and goes back to the last checkpoint. A
   * warm start that failed before any checkpoint restarts from the base model the fresh engine loaded.
   */
  private async recover(err: unknown, where = `at step ${this.state.step + 1}`): Promise<void> {
    const message = err instanceof Error ? err.message : String(err);
    this.restarts += 1;
    this.hooks.log('error', `engine failed ${where}: ${message}`);
    if (this.restarts > this.config.maxRestarts)
      throw new Error(`engine failed ${this.restarts} times (limit ${this.config.maxRestarts}); last error: ${message}`);
    // Lines of the failed step that were never flushed are dropped; flushed ones stay.
    await this.engine.shutdown().catch(() => undefined);
    const started = await this.startEngine();
    this.engine = started.engine;
    this.info = started.info;
    const latest = latestCheckpoint(this.runDir);
    const inWarmStart = this.state.sftDone !== null;
    if (!latest && !inWarmStart) throw new Error(`engine failed before the first checkpoint: ${message}`);
    if (latest) {
      await this.restoreFrom(latest.dir, latest.state);
      this.hooks.log('warn', `engine restarted (${this.restarts}/${this.config.maxRestarts}); continuing from checkpoint ${latest.step}`);
    } else {
      this.state = this.initialState(0);
      this.hooks.log(
        'warn',
        `engine restarted (${this.restarts}/${this.config.maxRestarts}); the warm start begins again from the base model`,
      );
    }
  }

  private async rlStep(): Promise<void> {
    const step = this.state.step + 1;
    const t0 = performance.now();
    const phases: Record<string, number> = {};
    const { indices, cursor } = nextBatch(this.train.length, this.config.batchSize, this.config.seed, this.state.cursor, this.strata);
    const records = indices.map((i) => this.train[i]!);
    const rng = Prng.fromState(this.state.rng.state());

    this.hooks.progress({ step, phase: 'generate' });
    let tPhase = performance.now();
    const samples: Record<Stream, GeneratedSample[][]> = { grounded: records.map(() => []), textual: records.map(() => []) };
    for (const stream of ['grounded', 'textual'] as Stream[]) {
      const s = this.config.streams[stream];
      const seed = rng.seed();
      if (!s.enabled) continue;
      const prompts = records.map((r, q) => ({
        id: `${step}:${q}:${stream}`,
        images: [join(this.imageRoot, r.image)],
        messages: promptMessages(stream, r),
      }));
      const result = await this.engine.generate({
        prompts,
        n: s.groupSize,
        temperature: s.temperature,
        maxTokens: this.config.maxTokens,
        seed,
        keep: true,
      });
      const byPrompt = new Map(prompts.map((p, q) => [p.id, q]));
      for (const g of result.samples) {
        const q = byPrompt.get(g.promptId);
        if (q === undefined) throw new Error(`engine returned a sample for unknown prompt ${g.promptId}`);
        samples[stream][q]!.push(g);
      }
    }
    phases.generate = (performance.now() - tPhase) / 1000;

    this.hooks.progress({ step, phase: 'score' });
    tPhase = performance.now();
    const now = Date.now();
    const rollouts: RolloutRecord[] = [];
    const update: Array<{ rolloutId: string; advantage: number }> = [];
    let highQuality = 0;
    records.forEach((record, q) => {
      const toSample = (g: GeneratedSample): StreamSample => ({ rolloutId: g.rolloutId, text: g.text });
      const scored = scoreQuestion(
        record,
        samples.grounded[q]!.map(toSample),
        samples.textual[q]!.map(toSample),
        this.rewards,
        parseOptionsFor(record, this.info),
        DEFAULT_ADVANTAGE_OPTIONS,
      );
      const generated = new Map([...samples.grounded[q]!, ...samples.textual[q]!].map((g) => [g.rolloutId, g]));
      const indexIn: Record<Stream, number> = { grounded: 0, textual: 0 };
      for (const s of scored) {
        const g = generated.get(s.rolloutId)!;
        if (s.highQuality) highQuality += 1;
        rollouts.push(this.rolloutRecord(step, record, s, g, indexIn[s.stream]++, now));
        update.push({ rolloutId: s.rolloutId, advantage: s.advantage });
      }
    });
    phases.score = (performance.now() - tPhase) / 1000;

    this.hooks.progress({ step, phase: 'update' });
    tPhase = performance.now();
    const u = await this.engine.update({
      items: update,
      clipEpsilon: this.config.clipEpsilon,
      klBeta: this.config.klBeta,
      aggregation: 'token',
      microBatch: this.config.microBatch,
      maxGradNorm: this.config.maxGradNorm,
      learningRate: this.config.learningRate,
    });
    phases.update = (performance.now() - tPhase) / 1000;

    tPhase = performance.now();
    for (const r of rollouts) this.events.append('rollouts', r);
    phases.write = (performance.now() - tPhase) / 1000;
    phases.total = (performance.now() - t0) / 1000;
    const metrics = stepMetrics(rollouts, {
      step,
      time: Date.now(),
      kl: u.kl,
      clipFraction: u.clipFraction,
      loss: u.loss,
      gradNorm: u.gradNorm,
      phases,
      highQualityGrounded: highQuality,
    });
    this.events.append('metrics', metrics);
    this.events.flush();
    this.state = { step, cursor, rng, sftDone: null };
    this.hooks.progress({ step, phase: 'idle', reward: metrics.reward });
  }

  private rolloutRecord(
    step: number,
    record: DatasetRecord,
    s: ScoredSample,
    g: GeneratedSample,
    sample: number,
    time: number,
  ): RolloutRecord {
    return {
      v: 1,
      id: s.rolloutId,
      step,
      stream: s.stream,
      promptId: record.id,
      sample,
      input: promptInput(promptMessages(s.stream, record)),
      output: g.text,
      score: s.total,
      image: record.image,
      answer: s.answer,
      correct: s.correct,
      boxes: s.boxes,
      rewards: s.rewards,
      advantage: s.advantage,
      ...(s.references ? { references: s.references } : {}),
      tokens: { prompt: g.promptTokens, completion: g.completionTokens },
      finish: g.finish,
      time,
    };
  }

  async shutdown(): Promise<void> {
    await this.engine?.shutdown().catch(() => undefined);
  }
}
