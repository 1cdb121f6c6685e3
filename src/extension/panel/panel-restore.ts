/**
 * Which run folder a panel restored after a window reload shows. The panel keeps only its run id
 * (webview state); the extension keeps an id → folder map in workspace storage, written when the
 * panel opened. A reload can come before that storage is flushed (the browser workbench cannot
 * wait at shutdown), so the run list is asked too. Pure: the caller supplies the map, the runs it
 * knows and an existence check.
 */

export interface KnownRun {
  id: string;
  dir: string;
}

/** The id a panel saves for `runDir`: the run's own id, or the folder name before run.json is read. */
export function panelRunId(runDir: string, run: KnownRun | undefined): string {
  return (
    run?.id ??
    runDir
      .split(/[\\/]/)
      .filter((p) => p !== '')
      .at(-1) ??
    runDir
  );
}

/**
 * The folder to reopen for saved webview state, or undefined when the state names no run or the
 * run is gone (its folder holds neither run.json nor events/).
 */
export function resolvePanelRun(
  state: unknown,
  known: Readonly<Record<string, string>>,
  runs: readonly KnownRun[],
  isRunFolder: (dir: string) => boolean,
): string | undefined {
  const runId = state !== null && typeof state === 'object' ? (state as { runId?: unknown }).runId : undefined;
  if (typeof runId !== 'string' || runId === '') return undefined;
  const candidates = [known[runId], ...runs.filter((r) => r.id === runId || r.dir === runId).map((r) => r.dir)];
  return candidates.find((dir): dir is string => dir !== undefined && isRunFolder(dir));
}
