/**
 * `ivgr demo` (npm run demo): the embedded default end to end on CPU —
 * synthetic benchmark, tiny model, SFT warm start, iVGR RL, the same RL with
 * the consistency weight at 0 (ablation, same seed and steps, starting from the
 * same warm start), then the SFT and both RL checkpoints evaluated in the three
 * modes on the held-out test split.
 */
import { join, resolve } from 'node:path';
import { parseCommandArgs, printedHelp } from '../args';
import { CliError, type Command } from '../cli-error';
import type { EvalMode, EvalRecord, MetricsRecord, RolloutRecord } from '../../core/types';
import { consistencyFiring, pairedTest, type PairedTest } from '../../core/paired-tests';
import { demoFindings } from '../../core/demo-findings';
import { readAll } from '../../run/jsonl-reader';
import { defaultRunsRoot } from '../../run/run-list';
import { runConfigSchema, type RunConfigInput } from '../../run/config-schema';
import { createRunDir, newRunId, readRunJson } from '../../run/run-dir';
import { latestCheckpoint, listCheckpoints } from '../../run/checkpoints';
import { DEMO_CONFIG } from '../../worker/demo-config';
import { runWorker } from '../../worker/worker';
import { EventSink } from '../../worker/event-sink';
import { EVAL_MODES } from '../../worker/evaluate';
import { evaluateCheckpoints, formatEvalTable, writeEvalSummary } from '../../worker/eval-run';
import { engineStarter, openRunData } from '../../worker/run-inputs';
import { Progress } from '../../worker/progress';
import { parseStep } from './train';
import { parseModes } from './eval';

const USAGE = `usage: ivgr demo [options]

  --runs-dir <dir>     where the demo runs go (default $IVGR_RUNS or ./runs)
  --data-dir <dir>     synthetic benchmark and tiny model cache (default .ivgr/demo)
  --steps <n>          RL steps (default ${String(DEMO_CONFIG.steps)})
  --sft-steps <n>      warm-start steps (default ${String(DEMO_CONFIG.sft?.steps)})
  --test-limit <n>     evaluate only the first n test questions (default all)
  --modes <m,..>       evaluation modes (default textual,grounded,tool)
  --no-ablation        skip the consistency-weight-0 run
  --json               print eval-summary.json instead of the table
  --python <path>      Python of the engine`;

export const demoCommand: Command = {
  summary: 'the embedded default end to end: data, tiny model, SFT, iVGR, ablation, evaluation',
  async run(args) {
    const { values } = parseCommandArgs(
      {
        args,
        options: {
          'runs-dir': { type: 'string' },
          'data-dir': { type: 'string' },
          steps: { type: 'string' },
          'sft-steps': { type: 'string' },
          'test-limit': { type: 'string' },
          modes: { type: 'string', default: EVAL_MODES.join(',') },
          'no-ablation': { type: 'boolean', default: false },
          json: { type: 'boolean', default: false },
          python: { type: 'string' },
          help: { type: 'boolean', short: 'h', default: false },
        },
      },
      USAGE,
    );
    if (printedHelp(values.help, USAGE)) return 0;
    const t0 = performance.now();
    const modes: EvalMode[] = parseModes(values.modes);
    const steps = parseStep(values.steps, '--steps');
    const sftSteps = parseStep(values['sft-steps'], '--sft-steps');
    const testLimit = parseStep(values['test-limit'], '--test-limit') ?? 0;
    const dataDir = resolve(values['data-dir'] ?? join('.ivgr', 'demo'));
    const runsRoot = resolve(values['runs-dir'] ?? defaultRunsRoot());
    const python = values.python ? { python: values.python } : {};
    const base: RunConfigInput = {
      ...DEMO_CONFIG,
      dataset: { path: join(dataDir, 'data') },
      ...(steps !== undefined ? { steps } : {}),
      ...(sftSteps !== undefined ? { sft: { ...DEMO_CONFIG.sft, steps: sftSteps } } : {}),
    };
    const stamp = newRunId('demo');
    const progress = new Progress();
    const say = (text: string) => progress.line(text);

    // 1. Full iVGR: warm start + RL.
    const full = runConfigSchema.parse(base);
    const fullDir = join(runsRoot, `${stamp}-ivgr`);
    createRunDir(fullDir, { id: `${stamp}-ivgr`, given: base, config: full, engine: full.engine });
    say(`demo: iVGR run ${fullDir}`);
    const s1 = await runWorker(fullDir, { signals: true, progress, ...python });
    if (s1 !== 'finished') throw new CliError(`the iVGR run ended ${s1}; see ${join(fullDir, 'worker.log')}`, 1);
    const sft = listCheckpoints(fullDir).find((c) => c.state.phase === 'sft');
    const fullFinal = latestCheckpoint(fullDir)!;

    // 2. Ablation: consistency weight 0, same seed and steps, from the same warm start.
    let ablationFinal: string | null = null;
    if (!values['no-ablation']) {
      const given: RunConfigInput = {
        ...base,
        name: 'demo-nocons',
        rewards: { ...base.rewards, consistency: 0 },
        initFrom: sft?.dir ?? null,
      };
      const cfg = runConfigSchema.parse(given);
      const dir = join(runsRoot, `${stamp}-nocons`);
      createRunDir(dir, { id: `${stamp}-nocons`, given, config: cfg, engine: cfg.engine });
      say(`demo: ablation run (consistency weight 0) ${dir}`);
      const s2 = await runWorker(dir, { signals: true, progress, ...python });
      if (s2 !== 'finished') throw new CliError(`the ablation run ended ${s2}; see ${join(dir, 'worker.log')}`, 1);
      ablationFinal = latestCheckpoint(dir)!.dir;
    }

    // 3. Evaluation on the held-out test split; every row goes into the iVGR run's eval-summary.json.
    say('demo: evaluating on the test split');
    const run = readRunJson(fullDir);
    const data = await openRunData(run, run.config, say);
    const { engine, info } = await engineStarter(run.config, data, { ...python, log: (level, text) => level !== 'info' && say(text) })();
    const events = new EventSink(fullDir);
    try {
      const common = {
        split: 'test',
        limit: testLimit,
        events,
        log: say,
        onProgress: (label: string, done: number, total: number) => progress.update(label, done, total),
      };
      await evaluateCheckpoints(fullDir, engine, info, data, {
        ...common,
        labels: [...(sft ? [{ label: 'sft', dir: sft.dir }] : []), { label: 'ivgr', dir: fullFinal.dir }],
        modes,
      });
      // The ablation answers one question (does the consistency term matter for textual reasoning?), so textual mode only.
      if (ablationFinal && modes.includes('textual')) {
        await evaluateCheckpoints(fullDir, engine, info, data, {
          ...common,
          labels: [{ label: 'ivgr-cons0', dir: ablationFinal }],
          modes: ['textual'],
        });
      }
    } finally {
      progress.done();
      events.close();
      await engine.shutdown();
    }
    const evalRecords = (await readAll<EvalRecord>(join(fullDir, 'events', 'eval.jsonl'))).records.filter((r) => r.split === 'test');
    const paired = [
      ...(sft ? [pairedTest(evalRecords, 'ivgr', 'sft', 'textual')] : []),
      ...(ablationFinal ? [pairedTest(evalRecords, 'ivgr', 'ivgr-cons0', 'textual')] : []),
    ].filter((t): t is PairedTest => t !== null);
    const consistency = consistencyFiring((await readAll<RolloutRecord>(join(fullDir, 'events', 'rollouts.jsonl'))).records);
    const summary = await writeEvalSummary(fullDir, 'test', { paired, consistency });
    const order = ['sft', 'ivgr', 'ivgr-cons0'];
    const rows = [...summary.rows].sort((a, b) => order.indexOf(a.checkpoint) - order.indexOf(b.checkpoint));
    const minutes = (performance.now() - t0) / 60000;
    if (values.json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    else {
      process.stdout.write(`\n${formatEvalTable(rows)}\n\n`);
      process.stdout.write(`sft = warm start; ivgr = after ${full.steps} RL steps; ivgr-cons0 = same RL with consistency weight 0\n`);
      const metrics = (await readAll<MetricsRecord>(join(fullDir, 'events', 'metrics.jsonl'))).records;
      const findings = demoFindings({
        rows,
        metrics,
        sft: 'sft',
        full: 'ivgr',
        ablation: ablationFinal ? 'ivgr-cons0' : null,
        paired,
        firing: consistency,
      });
      process.stdout.write(`\n${findings.map((l) => `- ${l}`).join('\n')}\n\n`);
      process.stdout.write(`summary: ${join(fullDir, 'eval-summary.json')}  (${minutes.toFixed(1)} min)\n`);
    }
    return 0;
  },
};
