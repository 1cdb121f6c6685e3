/** Streams a run's event file (events/*.jsonl) in chunks, keeping only the records asked for, so a huge file is never held whole. */
import { readEventLines } from '../run/supervisor';

/** The records of `file` that `parse` accepts and `keep` wants; a missing file has none. Checks `signal` before each chunk. */
export async function readEventRecords<T>(file: string, parse: (r: Record<string, unknown>) => T | null, keep: (r: T) => boolean, signal?: AbortSignal): Promise<T[]> {
  const out: T[] = [];
  let offset = 0;
  for (;;) {
    signal?.throwIfAborted();
    const chunk = await readEventLines(file, offset);
    for (const l of chunk.lines) {
      const r = parse(l.record);
      if (r !== null && keep(r)) out.push(r);
    }
    if (chunk.nextOffset === offset) return out;
    offset = chunk.nextOffset;
  }
}

/** A `parse` for readEventRecords: the record as `schema` reads it, or null when it does not fit. */
export const parser =
  <T>(schema: { safeParse: (v: unknown) => { success: true; data: T } | { success: false } }) =>
  (r: unknown): T | null => {
    const p = schema.safeParse(r);
    return p.success ? p.data : null;
  };

export const all = (): boolean => true;
