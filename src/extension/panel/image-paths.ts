/** Where an image a panel asks for lives: inside the run's dataset roots, else inside the run folder (zoom crops). */
import { existsSync } from 'node:fs';
import { resolveInside } from '../../data/loaders/resolve';
import { datasetImagePath, type RunFiles } from '../run-files';

/** The file for a path a record names; throws saying where it was looked for when it is in neither place. */
export function panelImagePath(runDir: string, files: RunFiles, rel: string): string {
  const where: Array<[string, () => string]> = [[runDir, () => resolveInside(runDir, rel)]];
  if (files.datasetRoot) where.unshift([files.datasetRoot, () => datasetImagePath(files, rel)]);
  let lastError = '';
  for (const [root, resolvePath] of where) {
    try {
      const p = resolvePath();
      if (existsSync(p)) return p;
      lastError = `${rel}: not found under ${root}`;
    } catch (err) {
      lastError = (err as Error).message;
    }
  }
  throw new Error(lastError || `${rel}: the run has no dataset folder`);
}
