/**
 * The run recorded from the real worker (see record-fixture.ts): where it lies and its event
 * files as written, for the panel tests and the schema check that opens it.
 */
import { cpSync, readFileSync } from 'node:fs';
import type { DatasetRecord } from '../../../src/core/types';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', 'fixtures', 'recorded-run');

export const RECORDED_RUN = {
  root,
  runDir: join(root, 'run'),
  datasetDir: join(root, 'dataset'),
};

/**
 * A copy of the recorded run and its dataset under `root`, for a panel to open: the query service
 * writes its index cache (and a test its annotations) into the run folder, never into the fixture.
 */
export function copyRecordedRun(root: string): { runDir: string; datasetDir: string } {
  cpSync(RECORDED_RUN.root, root, { recursive: true });
  return { runDir: join(root, 'run'), datasetDir: join(root, 'dataset') };
}

/** The raw lines of one of the recorded run's event files, blank lines left out. */
export function recordedLines(file: 'rollouts' | 'metrics' | 'eval'): string[] {
  return readFileSync(join(RECORDED_RUN.runDir, 'events', `${file}.jsonl`), 'utf8')
    .split('\n')
    .filter((l) => l.trim());
}

/** The questions the recorded run's events name, from its dataset's split files. */
export function recordedQuestions(): DatasetRecord[] {
  return ['train', 'val', 'test'].flatMap((split) =>
    readFileSync(join(RECORDED_RUN.datasetDir, `${split}.jsonl`), 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as DatasetRecord),
  );
}
