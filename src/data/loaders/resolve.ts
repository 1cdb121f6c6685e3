/** Dataset paths stay inside their dataset root. */
import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';

export class PathEscapeError extends Error {
  /** Where a symbolic link inside the root led, when that is how the path escaped. */
  readonly target: string | undefined;

  constructor(message: string, target?: string) {
    super(message);
    this.target = target;
  }
}

function leaves(base: string, full: string): boolean {
  const back = relative(base, full);
  return back === '' || back === '..' || back.startsWith(`..${sep}`) || isAbsolute(back);
}

/** The real path, or null when nothing is there yet (a missing file cannot be read through a link). */
function realOrNull(path: string): string | null {
  try {
    return realpathSync.native(path);
  } catch {
    return null;
  }
}

/**
 * Absolute path of `rel` inside `root`. Throws when `rel` is absolute, climbs
 * out of the root (`../`), or reaches outside it through a symbolic link, so a
 * dataset file cannot point anywhere else.
 */
export function resolveInside(root: string, rel: string): string {
  if (rel.includes('\0')) throw new PathEscapeError(`path "${rel}" contains a NUL byte`);
  if (isAbsolute(rel) || /^[A-Za-z]:[\\/]/.test(rel))
    throw new PathEscapeError(`path "${rel}" must be relative to the dataset root, not absolute`);
  const base = resolve(root);
  const full = resolve(base, rel.replace(/\\/g, '/'));
  if (leaves(base, full)) throw new PathEscapeError(`path "${rel}" leaves the dataset root`);
  const real = realOrNull(full);
  if (real !== null && leaves(realOrNull(base) ?? base, real)) {
    throw new PathEscapeError(`path "${rel}" leaves the dataset root through a symbolic link to "${real}"`, real);
  }
  return full;
}
