/**
 * `ivgr import --follow`: tails a dump while its trainer writes it. The run folder is `running`
 * with this process's pid and a control socket, so the panel attaches and updates live; Ctrl-C
 * (or a client's stop) reads what is complete, then marks the run `stopped`.
 */
import { basename } from 'node:path';
import type { WorkerStatus } from '../core/protocol/control';
import type { CoordConvention } from '../core/types';
import type { DumpBatch, DumpSource } from '../run/dump-source';
import type { ImportImages } from '../run/import-images';
import { readRunJson, runPaths, updateRunJson } from '../run/run-dir';
import { ControlServer } from '../worker/control-server';
import { ImportWriter } from './import-writer';

const POLL_MS = 500;

export async function followDump(
  source: DumpSource,
  out: string,
  { images, convention }: { images: ImportImages | null; convention: CoordConvention },
  say: (line: string) => void,
): Promise<void> {
  let status: WorkerStatus['status'] = 'running';
  // Events reach clients only once flushed to the files (see EventSink).
  const w = new ImportWriter(
    out,
    images,
    (file, offset, record) => server.broadcast({ type: 'event', file, offset, record: record as Record<string, unknown> }),
    convention,
  );
  const message = (): string => `${status === 'running' ? 'following' : 'stopped following'} ${source.path}`;
  const current = (): WorkerStatus => ({
    status,
    step: w.lastStep,
    totalSteps: w.lastStep,
    phase: status === 'running' ? 'following' : 'idle',
    reward: w.latestReward,
    pid: process.pid,
    message: message(),
  });
  const server = new ControlServer(runPaths(out).controlSocket, basename(out), current, (m) => {
    if (m.type === 'stop') stop();
    else
      server.broadcast({
        type: 'log',
        level: 'warn',
        source: 'worker',
        text: `an import has no ${m.type}: it follows ${source.path} until stopped`,
      });
  });
  await server.listen();
  const { config } = readRunJson(out);
  updateRunJson(out, { status: 'running', pid: process.pid, message: message() });
  server.broadcast({ type: 'status', status: current() });

  let stopRequested = false;
  let wake: () => void = () => {};
  function stop(): void {
    stopRequested = true;
    wake();
  }
  const pause = (): Promise<void> =>
    new Promise((resolve) => {
      wake = resolve;
      setTimeout(resolve, POLL_MS);
    });
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const poll = async (batch: DumpBatch): Promise<void> => {
    for (const file of batch.rewritten) {
      w.reopen(file === null ? undefined : Number(file));
      say(`${file === null ? source.path : `step ${file}`} was written anew: its rollouts are read again`);
    }
    if (batch.rows.length === 0) return;
    const steps = await w.add(batch.rows);
    // verl writes a step's file whole before the next one: only the newest step written can still grow.
    w.settle(steps.at(-1)!);
    // The total is what the dump holds so far: verl's own step count is not in it.
    updateRunJson(out, { step: w.lastStep, config: { ...config, steps: Math.max(1, w.lastStep) } });
    server.broadcast({ type: 'status', status: current() });
    say(`step ${steps.join(', ')}: ${w.rollouts} rollouts over ${w.stepCount} steps`);
  };
  // A step file at a time, so joining a long run midway does not hold all its rollouts at once.
  const catchUp = async (): Promise<void> => {
    for (;;) {
      const batch = source.read(1);
      await poll(batch);
      if (batch.caughtUp) return;
    }
  };
  try {
    while (!stopRequested) {
      await catchUp();
      if (!stopRequested) await pause();
    }
    await catchUp();
    const last = source.finish();
    await poll(last);
    if (last.torn.length > 0) say(`skipped the incomplete last line ${last.torn.join(', ')}`);
    if (w.late > 0) say(`skipped ${w.late} lines written for steps already complete`);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    status = 'stopped';
    w.close();
    updateRunJson(out, { status: 'stopped', pid: null, step: w.lastStep, message: message() });
    server.broadcast({ type: 'status', status: current() });
    await server.close();
  }
  say(`imported ${w.rollouts} rollouts over ${w.stepCount} steps${images ? `; ${images.summary()}` : ''}`);
}
