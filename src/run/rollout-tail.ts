/**
 * The newest rollouts straight from the end of events/rollouts.jsonl, read backwards by byte
 * offset: what the browser's default view (step descending) shows first, available before the
 * column index has read the file. Lines are taken as the index takes them (an incomplete last
 * line is left alone, torn or invalid lines are skipped), and the order is the index's too: step
 * descending, ties in file order, so the answer equals the index's first rows. That needs the
 * file in step order, as the worker writes it; where the bytes read show otherwise, there is no
 * answer and the caller waits for the index.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { indexedFields } from './rollout-index';

export interface NewestRollouts {
  /** Rollouts at positions `0..want-1` of the step-descending order (fewer when the file holds fewer). */
  records: Record<string, unknown>[];
  /** The file holds exactly this many rollouts when `exact`, else about this many (by bytes per rollout so far). */
  total: number;
  exact: boolean;
}

const CHUNK = 256 * 1024;

function parseRow(bytes: Buffer): Record<string, unknown> | null {
  const text = bytes.toString('utf8').trim();
  if (text.length === 0) return null;
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch {
    return null;
  }
  if (!record || typeof record !== 'object' || Array.isArray(record)) return null;
  return typeof indexedFields(record as Record<string, unknown>) === 'string' ? null : (record as Record<string, unknown>);
}

/**
 * Reads the file from its end until the first `want` rows of the step-descending order are known
 * (their last step group complete). Null when the file is out of step order, holds a step twice
 * (a replayed step: the index keeps its last attempt) or that takes more than `maxBytes`.
 */
export function readNewestRollouts(file: string, want: number, maxBytes = 64 << 20): NewestRollouts | null {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], total: 0, exact: true };
    throw e;
  }
  try {
    const size = fstatSync(fd).size;
    /** Newest first; their steps as the index stores them (int32). */
    const seen: Record<string, unknown>[] = [];
    const steps: number[] = [];
    /** The rollouts of the step group being read, by stream, question and sample. */
    const groupKeys = new Set<string>();
    let group: { time: unknown; uniform: boolean } = { time: undefined, uniform: true };
    // `pending` holds bytes [pos, end) not yet split into lines; `end` is past the last newline once found.
    let pos = size;
    let pending = Buffer.alloc(0);
    let foundEnd = false;
    let atStart = false;
    const readBack = (): boolean => {
      if (pos === 0) return false;
      if (size - pos >= maxBytes) throw new RangeError('tail too long');
      const from = Math.max(0, pos - CHUNK);
      const buf = Buffer.alloc(pos - from);
      const n = readSync(fd, buf, 0, buf.length, from);
      pending = Buffer.concat([buf.subarray(0, n), pending]);
      pos = from;
      return true;
    };
    try {
      while (!foundEnd) {
        const nl = pending.lastIndexOf(0x0a);
        if (nl !== -1) {
          // What follows the last newline may still be being written: the index leaves it too.
          pending = pending.subarray(0, nl + 1);
          foundEnd = true;
        } else if (!readBack()) return { records: [], total: 0, exact: true };
      }
      for (;;) {
        const prev = pending.length >= 2 ? pending.lastIndexOf(0x0a, pending.length - 2) : -1;
        if (prev === -1 && readBack()) continue;
        const line = pending.subarray(prev + 1, pending.length - 1);
        pending = pending.subarray(0, prev + 1);
        const r = parseRow(line);
        if (r) {
          const step = Number(r.step) | 0;
          if (steps.length > 0 && step > steps[steps.length - 1]!) return null;
          if (steps.length === 0 || step !== steps[steps.length - 1]) {
            groupKeys.clear();
            group = { time: r.time, uniform: true };
          }
          // A rollout seen again in a step group stamped with one time is an earlier attempt of that step: the index decides.
          const key = `${String(r.stream)}\u0000${String(r.promptId)}\u0000${String(r.sample)}`;
          if (group.uniform && groupKeys.has(key) && r.time !== group.time) return null;
          if (r.time !== group.time) group.uniform = false;
          groupKeys.add(key);
          if (seen.length >= want && step < steps[want - 1]!) break;
          seen.push(r);
          steps.push(step);
        }
        if (prev === -1) {
          atStart = true;
          break;
        }
      }
    } catch (e) {
      if (e instanceof RangeError) return null;
      throw e;
    }
    // Back to file order, then by step descending: Array.prototype.sort is stable, so ties keep file order.
    const order = seen.map((_, i) => seen.length - 1 - i).sort((a, b) => steps[b]! - steps[a]! || b - a);
    const records = order.slice(0, want).map((i) => seen[i]!);
    if (atStart) return { records, total: seen.length, exact: true };
    const bytesRead = size - pos - pending.length;
    return { records, total: Math.max(seen.length, Math.round((seen.length * size) / Math.max(1, bytesRead))), exact: false };
  } finally {
    closeSync(fd);
  }
}
