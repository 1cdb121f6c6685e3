/**
 * How a run's datasets are found and how their records read inside the run:
 * one rule for the worker that trains on them and the panel that shows them.
 * With several datasets a record's id is `<name>/<id>` and its image path is
 * relative to the deepest folder holding every dataset's root.
 */
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { DatasetRecord } from '../core/types';
import { DATASET_FORMATS, loadDataset, type DatasetFormat, type LoadedDataset } from '../data/loaders/load';
import { runDatasets, type RunConfig, type RunDataset } from './config-schema';

export interface RunDatasetEntry extends RunDataset {
  /** Absolute path of the dataset. */
  path: string;
  /** The config field it came from ("dataset" or "datasets.<i>"), for error messages. */
  field: string;
}

/** The run's datasets with absolute paths; relative ones are taken from `base` (the config file's folder). */
export function runDatasetEntries(config: Pick<RunConfig, 'dataset' | 'datasets'>, base: string): RunDatasetEntry[] {
  return runDatasets(config).map((d, i) => ({
    ...d,
    path: isAbsolute(d.path) ? d.path : resolve(base, d.path),
    field: config.datasets ? `datasets.${i}` : 'dataset',
  }));
}

/** The deepest folder that holds every one of `dirs`: the root record image paths are relative to. */
export function commonRoot(dirs: readonly string[]): string {
  let root = dirs[0]!;
  while (!dirs.every((d) => d === root || d.startsWith(root.endsWith(sep) ? root : root + sep))) root = dirname(root);
  return root;
}

/** A dataset's records as the run names them: prefixed ids and image paths from the run's `root`. */
export function recordsInRun(
  entry: Pick<RunDatasetEntry, 'name'>,
  root: string,
  loaded: Pick<LoadedDataset, 'records' | 'root'>,
): DatasetRecord[] {
  const name = entry.name;
  if (name === null) return loaded.records;
  return loaded.records.map((r) => ({ ...r, id: `${name}/${r.id}`, image: relative(root, join(loaded.root, r.image)) }));
}

/** Loads one dataset of the run (all splits when `split` is undefined); errors name the config field. */
export async function loadRunDataset(entry: RunDatasetEntry, split?: string): Promise<LoadedDataset> {
  if (entry.format !== undefined && !(DATASET_FORMATS as readonly string[]).includes(entry.format)) {
    throw new Error(
      `config ${entry.field}.format: '${entry.format}' is not a dataset format (expected one of ${DATASET_FORMATS.join(', ')})`,
    );
  }
  const opts = { ...(entry.format ? { format: entry.format as DatasetFormat } : {}), ...(split !== undefined ? { split } : {}) };
  return loadDataset(entry.path, opts).catch((err: unknown) => {
    throw new Error(`config ${entry.field} (${entry.path}): ${err instanceof Error ? err.message : String(err)}`);
  });
}
