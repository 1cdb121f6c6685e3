/**
 * Export Annotations on disk: reads a run's event files and its datasets, lets annotation-export.ts
 * decide what goes out, and writes `<run>/exports/annotations-<format>.jsonl`. No vscode, so the
 * command is glue and this part is tested on real run folders.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { annotationRecordSchema, evalRecordSchema } from '../core/protocol/webview';
import type { AnnotationRecord, DatasetRecord, EvalRecord, ImageSize } from '../core/types';
import { loadRunDataset, recordsInRun } from '../run/run-datasets';
import { all, parser, readRecords } from '../run/jsonl-reader';
import { readLastAttempts } from '../run/rollout-records';
import { dpoLines, failureDataset, sftLines, toJsonl, type ExportInput, type FailureSources } from './annotation-export';
import { panelImagePath } from './panel/image-paths';
import { readRunFiles } from './run-files';

export type ExportFormat = 'sft' | 'dpo' | 'failures';

export interface WrittenExport {
  format: ExportFormat;
  file: string;
  n: number;
  /** Annotated targets left out, with the reason. */
  skipped: string[];
}

export interface ExportOutcome {
  written: WrittenExport[];
  /** Problems that did not stop the export, e.g. a dataset that could not be read. */
  warnings: string[];
}

/** The annotations and the records they need: annotated ones, and the correct traces of their questions. */
export async function readExportInput(runDir: string, signal?: AbortSignal): Promise<ExportInput> {
  const events = join(runDir, 'events');
  const annotations = await readRecords<AnnotationRecord>(join(events, 'annotations.jsonl'), parser(annotationRecordSchema), all, signal);
  const ids = new Set(annotations.map((a) => a.target.id));
  const evals = await readRecords<EvalRecord>(join(events, 'eval.jsonl'), parser(evalRecordSchema), all, signal);
  const prompts = new Set(evals.filter((e) => ids.has(e.id)).map((e) => e.promptId));
  // Two passes keep only what matters in memory; the rollouts file may be huge.
  const annotated = await readLastAttempts(join(events, 'rollouts.jsonl'), (r) => ids.has(r.id), signal);
  for (const r of annotated) prompts.add(r.promptId);
  const rollouts = await readLastAttempts(
    join(events, 'rollouts.jsonl'),
    (r) => ids.has(r.id) || (r.correct && prompts.has(r.promptId)),
    signal,
  );
  return { annotations, rollouts, evals };
}

/**
 * What failure cases need beyond the events: the records of the annotated questions from every
 * dataset of the run (reference answer, options, family, evidence), named as the run names them,
 * and, for questions in none, image sizes read from the images under the dataset roots.
 */
export async function readFailureSources(
  runDir: string,
  input: ExportInput,
  signal?: AbortSignal,
): Promise<FailureSources & { warnings: string[] }> {
  const files = readRunFiles(runDir);
  const warnings: string[] = [];
  const dataset = new Map<string, DatasetRecord>();
  const wanted = new Set([...input.rollouts, ...input.evals].map((r) => r.promptId));
  const root = files.datasetRoot;
  if (root !== null) {
    for (const d of files.datasets) {
      signal?.throwIfAborted();
      try {
        for (const r of recordsInRun(d, root, await loadRunDataset(d))) if (wanted.has(r.id)) dataset.set(r.id, r);
      } catch (err) {
        warnings.push(`run.json ${err instanceof Error ? err.message : String(err)}; its rollouts have no reference answer`);
      }
    }
  }
  signal?.throwIfAborted();
  // Failure cases name each image by its file, so the export is usable away from the run.
  const paths = new Map<string, string>();
  const sizes = new Map<string, ImageSize>();
  const named = [...input.rollouts, ...input.evals].map((r) => ({
    image: dataset.get(r.promptId)?.image ?? r.image,
    inDataset: dataset.has(r.promptId),
  }));
  for (const { image, inDataset } of named) {
    if (typeof image !== 'string' || paths.has(image)) continue;
    signal?.throwIfAborted();
    let file: string;
    try {
      file = panelImagePath(runDir, files, image);
    } catch (err) {
      warnings.push(`${err instanceof Error ? err.message : String(err)}; failure cases name it as the run does`);
      continue;
    }
    paths.set(image, file);
    if (inDataset) continue;
    const meta = await sharp(file)
      .metadata()
      .catch(() => null);
    if (meta?.width && meta.height) sizes.set(image, { width: meta.width, height: meta.height });
  }
  return { dataset, imageSize: (p) => sizes.get(p), imagePath: (p) => paths.get(p), warnings };
}

/** Writes the chosen exports; nothing is written when `signal` aborts first. */
export async function exportAnnotationFiles(
  runDir: string,
  formats: readonly ExportFormat[],
  signal?: AbortSignal,
): Promise<ExportOutcome> {
  const input = await readExportInput(runDir, signal);
  const warnings: string[] = [];
  const results: Array<{ format: ExportFormat; lines: unknown[]; skipped: string[] }> = [];
  for (const format of formats) {
    if (format === 'sft') results.push({ format, ...sftLines(input) });
    else if (format === 'dpo') results.push({ format, ...dpoLines(input) });
    else {
      const sources = await readFailureSources(runDir, input, signal);
      warnings.push(...sources.warnings);
      results.push({ format, ...failureDataset(input, sources) });
    }
  }
  signal?.throwIfAborted();
  const outDir = join(runDir, 'exports');
  mkdirSync(outDir, { recursive: true });
  const written = results.map((r) => {
    const file = join(outDir, `annotations-${r.format}.jsonl`);
    writeFileSync(file, toJsonl(r.lines));
    return { format: r.format, file, n: r.lines.length, skipped: r.skipped };
  });
  return { written, warnings };
}
