/**
 * Where an HR-Bench TSV's decoded images live. The loader decodes into this
 * folder and the panel serves from it, so both must take it from here.
 */
import { createHash } from 'node:crypto';
import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

export interface HrbenchImageRoot {
  /** The folder record image paths are relative to; the images are in `<root>/<cacheRel>/`. */
  root: string;
  /** `<tsv name>.images`, the folder under `root` holding the decoded images. */
  cacheRel: string;
  /** Why the images cannot go next to the TSV; null when they do. */
  notBeside: string | null;
}

/** Null when `dir` is a writable folder, or is absent inside a writable one; otherwise why not. */
function cannotWrite(dir: string): string | null {
  try {
    const st = statSync(dir, { throwIfNoEntry: false });
    if (st && !st.isDirectory()) return `${dir} is not a folder`;
    accessSync(st ? dir : dirname(dir), constants.W_OK);
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/**
 * The TSV's own folder, or, when `<tsv>.images/` cannot be written there (a
 * read-only dataset), a cache folder under the OS temp dir keyed by the TSV's
 * real path, size and mtime, so an edited TSV decodes afresh. Creates nothing.
 */
export function hrbenchImageRoot(tsv: string): HrbenchImageRoot {
  const cacheRel = `${basename(tsv)}.images`;
  const beside = dirname(tsv);
  const notBeside = cannotWrite(join(beside, cacheRel));
  if (notBeside === null) return { root: beside, cacheRel, notBeside };
  const st = statSync(tsv);
  const key = createHash('sha256')
    .update(`${realpathSync(tsv)}\0${st.size}\0${st.mtimeMs}`)
    .digest('hex')
    .slice(0, 16);
  return { root: join(tmpdir(), 'ivgr-hrbench-cache', `${basename(tsv)}-${key}`), cacheRel, notBeside };
}
