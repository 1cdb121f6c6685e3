/** Whether a run's worker lives, and what its status really is given that. */
import { readFileSync } from 'node:fs';
import type { RunStatus } from '../core/types';

/** Whether a process with this pid exists and is not a zombie. */
export function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // A killed child that nobody reaped yet still answers kill(0); /proc tells it apart.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/**
 * What a run really is, given what run.json says and whether its worker process lives.
 * A worker that died without writing a final status (kill -9, OOM, power loss) is crashed.
 */
export function effectiveStatus(stored: RunStatus, pidAlive: boolean): RunStatus {
  if (stored === 'running' || stored === 'paused') return pidAlive ? stored : 'crashed';
  if (stored === 'created' && !pidAlive) return 'crashed';
  return stored;
}
