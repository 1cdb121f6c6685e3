/**
 * What a run needs on disk before its folder is made: its datasets (a synthetic one is drawn on
 * demand) and its model folder, so that a bad path fails at once and leaves no empty run behind.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { isBuiltinModel } from '../engine/torch/builtin-models';
import type { RunConfig } from '../run/config-schema';
import { runDatasetEntries } from '../run/run-datasets';

/** One line per missing input; `configDir` is where the config's relative dataset paths start. */
export function missingRunInputs(config: RunConfig, configDir: string): string[] {
  const missing: string[] = [];
  if (!config.synthetic) {
    for (const e of runDatasetEntries(config, configDir)) if (!existsSync(e.path)) missing.push(`dataset not found: ${e.path}`);
  }
  // Only what is plainly a path (a hub-style "org/name" may mean something to another trainer); the
  // engine resolves a relative model folder from the worker's working directory, as here.
  const path = isAbsolute(config.model) || /^\.\.?[\\/]/.test(config.model);
  if (path && !isBuiltinModel(config.model) && !existsSync(resolve(config.model))) missing.push(`model folder not found: ${config.model}`);
  return missing;
}
