/**
 * What a command was invoked on: a Runs-tree node, a run folder path, a URI-like `{fsPath}`, or
 * nothing (then the command asks). Pure, so the routing of context-menu and palette calls is tested.
 */
export function runDirOf(arg: unknown): string | undefined {
  if (typeof arg === 'string' && arg !== '') return arg;
  if (arg !== null && typeof arg === 'object') {
    const o = arg as { runDir?: unknown; fsPath?: unknown };
    if (typeof o.runDir === 'string') return o.runDir;
    if (typeof o.fsPath === 'string') return o.fsPath;
  }
  return undefined;
}

/** The checkpoint step a command was invoked on (a checkpoint node), if any. */
export function checkpointOf(arg: unknown): number | undefined {
  if (arg !== null && typeof arg === 'object' && (arg as { kind?: unknown }).kind === 'checkpoint') {
    const step = (arg as { step?: unknown }).step;
    return typeof step === 'number' ? step : undefined;
  }
  return undefined;
}
