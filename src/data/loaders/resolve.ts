/** Dataset paths stay inside their dataset root. */
import { isAbsolute, relative, resolve, sep } from 'node:path';

export class PathEscapeError extends Error {}

/**
 * Absolute path of `rel` inside `root`. Throws when `rel` is absolute or
 * climbs out of the root (`../`), so a dataset file cannot point anywhere else.
 */
export function resolveInside(root: string, rel: string): string {
  if (rel.includes('\0')) throw new PathEscapeError(`path "${rel}" contains a NUL byte`);
  if (isAbsolute(rel) || /^[A-Za-z]:[\\/]/.test(rel)) throw new PathEscapeError(`path "${rel}" must be relative to the dataset root, not absolute`);
  const base = resolve(root);
  const full = resolve(base, rel.replace(/\\/g, '/'));
  const back = relative(base, full);
  if (back === '' || back === '..' || back.startsWith(`..${sep}`) || isAbsolute(back)) {
    throw new PathEscapeError(`path "${rel}" leaves the dataset root`);
  }
  return full;
}
