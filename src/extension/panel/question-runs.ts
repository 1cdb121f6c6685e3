/**
 * One question across the runs of a workspace: the other runs trained or evaluated on the
 * question's dataset, each with its latest step's rollouts of that question and its evaluation
 * samples. Runs name a dataset's records differently (`<name>/<id>` with several datasets, images
 * from the common root), so another run's records come back named as this run names them.
 * Lazy: a run's rollouts are reached through its column index and only the lines of the asked
 * question are read; eval files are streamed and only matching samples kept. No vscode import, so
 * the panel harness drives the same code.
 */
import { join, relative, resolve } from 'node:path';
import { evalRecordSchema, type OtherRunQuestion } from '../../core/protocol/webview';
import type { EvalRecord, RolloutRecord } from '../../core/types';
import { RolloutQueryService } from '../../run/rollout-query';
import { all, parser, readRecords } from '../../run/jsonl-reader';
import { readRunFiles, type RunFiles, type RunFilesDataset } from '../run-files';

/** A run the workspace knows (from the registry or the run list). */
export interface RunRef {
  id: string;
  name?: string | null;
  dir: string;
}

/** Rows read to find a question's latest step; a group larger than this is cut to it. */
const LATEST_ROWS = 256;

/** The datasets a run was configured with, as comparable absolute paths; empty when it names none. */
function datasetPaths(files: Pick<RunFiles, 'datasets'>): string[] {
  return files.datasets.map((d) => resolve(d.path));
}

/** The dataset of a run that holds question `promptId` (the one its `<name>/` prefix names), with the id inside that dataset. */
export function questionDataset(files: Pick<RunFiles, 'datasets'>, promptId: string): { dataset: RunFilesDataset; id: string } | null {
  let best: { dataset: RunFilesDataset; id: string } | null = null;
  for (const d of files.datasets) {
    if (d.name === null) return { dataset: d, id: promptId };
    // The longest name wins, so datasets named "a" and "a/b" stay apart.
    if (promptId.startsWith(`${d.name}/`) && (best === null || d.name.length > (best.dataset.name ?? '').length))
      best = { dataset: d, id: promptId.slice(d.name.length + 1) };
  }
  return best;
}

/** The id that question `id` of the dataset at (resolved) `path` has in a run with `files`; null when that run does not use the dataset. */
function idInRun(files: Pick<RunFiles, 'datasets'>, path: string, id: string): string | null {
  const d = files.datasets.find((e) => resolve(e.path) === path);
  return d === undefined ? null : d.name === null ? id : `${d.name}/${id}`;
}

/** Rewrites another run's records of one dataset into this run's names: question id and image path. */
interface Renamer {
  promptId: string;
  image: (image: string) => string;
}

function renamer(here: Pick<RunFiles, 'datasetRoot'>, there: Pick<RunFiles, 'datasetRoot'>, promptId: string): Renamer {
  const from = there.datasetRoot;
  const to = here.datasetRoot;
  return { promptId, image: (image) => (from === null || to === null ? image : relative(to, join(from, image))) };
}

function renamed<T extends { promptId: string; image?: string }>(r: T, as: Renamer): T {
  return { ...r, promptId: as.promptId, ...(r.image !== undefined ? { image: as.image(r.image) } : {}) };
}

export class QuestionAcrossRuns {
  private readonly services = new Map<string, RolloutQueryService>();

  constructor(private readonly runDir: string) {}

  /**
   * The other runs sharing a dataset with this run (`here`: its files), keyed by run id (made unique
   * when two runs share one), each with its files. Keys come from this list, not from one question's,
   * so a rollout's key stays valid.
   */
  matching(runs: readonly RunRef[], here: RunFiles = readRunFiles(this.runDir)): (RunRef & { key: string; files: RunFiles })[] {
    const mine = new Set(datasetPaths(here));
    if (mine.size === 0) return [];
    const self = resolve(this.runDir);
    const used = new Set<string>();
    const out: (RunRef & { key: string; files: RunFiles })[] = [];
    for (const r of runs) {
      if (resolve(r.dir) === self) continue;
      const files = readRunFiles(r.dir);
      if (!datasetPaths(files).some((p) => mine.has(p))) continue;
      let key = r.id;
      for (let n = 2; used.has(key); n++) key = `${r.id}#${n}`;
      used.add(key);
      out.push({ ...r, key, files });
    }
    return out;
  }

  /** The matching runs on the dataset of question `promptId`, each with the question's id in that run. */
  private onQuestion(
    here: RunFiles,
    promptId: string,
    runs: readonly RunRef[],
  ): Array<RunRef & { key: string; files: RunFiles; there: string }> {
    const q = questionDataset(here, promptId);
    if (q === null) return [];
    const path = resolve(q.dataset.path);
    return this.matching(runs, here).flatMap((r) => {
      const there = idInRun(r.files, path, q.id);
      return there === null ? [] : [{ ...r, there }];
    });
  }

  /** The question `promptId` in every run on its dataset, named as this run names it; a run that cannot be read says why instead. */
  async question(promptId: string, runs: readonly RunRef[]): Promise<OtherRunQuestion[]> {
    const here = readRunFiles(this.runDir);
    return Promise.all(
      this.onQuestion(here, promptId, runs).map(async (r): Promise<OtherRunQuestion> => {
        const run = { id: r.key, ...(r.name ? { name: r.name } : {}) };
        const as = renamer(here, r.files, promptId);
        try {
          const group = await this.latestGroup(r.dir, r.there);
          const evals = await evalsFor(r.dir, r.there);
          return { run, ...group, rollouts: group.rollouts.map((x) => renamed(x, as)), evals: evals.map((x) => renamed(x, as)) };
        } catch (err) {
          return { run, total: 0, step: null, rollouts: [], evals: [], error: err instanceof Error ? err.message : String(err) };
        }
      }),
    );
  }

  /** A rollout of a matching run, by the key `question` gave it (also after a panel reload), named as this run names its question. */
  async rollout(key: string, id: string, runs: readonly RunRef[]): Promise<RolloutRecord | null> {
    const here = readRunFiles(this.runDir);
    const run = this.matching(runs, here).find((r) => r.key === key);
    if (!run) throw new Error(`run "${key}" is not a run of the workspace on this run's datasets`);
    const record = await (await this.service(run.dir)).get(id);
    if (record === null) return null;
    const q = questionDataset(run.files, record.promptId);
    const mine = q === null ? null : idInRun(here, resolve(q.dataset.path), q.id);
    return mine === null ? record : renamed(record, renamer(here, run.files, mine));
  }

  private async service(dir: string): Promise<RolloutQueryService> {
    let s = this.services.get(dir);
    if (!s) this.services.set(dir, (s = new RolloutQueryService(dir)));
    await s.refresh();
    return s;
  }

  private async latestGroup(dir: string, promptId: string): Promise<Pick<OtherRunQuestion, 'total' | 'step' | 'rollouts'>> {
    const service = await this.service(dir);
    const page = await service.query({ promptId }, { key: 'step', dir: 'desc' }, 0, LATEST_ROWS);
    const step = page.rows[0]?.step ?? null;
    const ids = page.rows.filter((row) => row.step === step).map((row) => row.id);
    const rollouts = (await Promise.all(ids.map((id) => service.get(id)))).filter((r): r is RolloutRecord => r !== null);
    return { total: page.total, step, rollouts: rollouts.sort((a, b) => a.stream.localeCompare(b.stream) || a.sample - b.sample) };
  }
}

/** The evaluation samples of one question in a run, streamed from its eval file (only that question's lines are parsed). */
function evalsFor(dir: string, promptId: string): Promise<EvalRecord[]> {
  const parse = parser(evalRecordSchema);
  return readRecords(join(dir, 'events', 'eval.jsonl'), (r) => (r.promptId === promptId ? parse(r) : null), all);
}
