/**
 * `IVGR_OPEN_RUN`: a run folder whose panel the extension opens when it activates. `npm run studio`
 * sets it for code-server, so the browser window comes up on the run it started. Pure: the caller
 * supplies the environment, the workspace folders and the run-folder check.
 */
import { isAbsolute, resolve } from 'node:path';

export const OPEN_RUN_ENV = 'IVGR_OPEN_RUN';

export type OpenOnStart = { dir: string } | { error: string } | null;

/** The run to open on activation: null when the variable is unset, an error naming it when it points at no run. */
export function runToOpenOnStart(
  env: Readonly<Record<string, string | undefined>>,
  workspaceFolders: readonly string[],
  isRunFolder: (dir: string) => boolean,
): OpenOnStart {
  const value = env[OPEN_RUN_ENV]?.trim();
  if (!value) return null;
  const base = isAbsolute(value) ? '/' : workspaceFolders[0];
  if (base === undefined)
    return { error: `${OPEN_RUN_ENV}=${value} is a relative path but no folder is open; expected an absolute run folder` };
  const dir = resolve(base, value);
  if (!isRunFolder(dir)) return { error: `${OPEN_RUN_ENV}=${value}: ${dir} is not a run folder (expected a folder holding run.json)` };
  return { dir };
}
