/** The shared last step of every loader: path, image and schema checks per record. */
import type { DatasetRecord } from '../../core/types';
import { fieldError, parseRecordInput, withImageSize, type RecordInput, type Skip } from '../record-schema';
import { mapLimit, probeImage, type ImageLimits } from './images';
import { PathEscapeError, resolveInside } from './resolve';

/** A raw record with where it came from. */
export interface Candidate {
  where: string;
  value: unknown;
}

export interface Finished {
  records: DatasetRecord[];
  skipped: Skip[];
}

/** Validates candidates against the schema, the root and their images; keeps order, drops only bad ones. */
export async function finishRecords(root: string, candidates: Candidate[], limits: ImageLimits): Promise<Finished> {
  const seen = new Map<string, string>();
  const checked: Array<{ where: string; input: RecordInput } | Skip> = candidates.map((c) => {
    const r = parseRecordInput(c.value);
    if (!r.ok) return { where: c.where, reason: r.reason };
    const first = seen.get(r.record.id);
    if (first !== undefined) return { where: c.where, reason: fieldError('id', `a unique id (already used at ${first})`, r.record.id) };
    seen.set(r.record.id, c.where);
    return { where: c.where, input: r.record };
  });
  type Outcome = { ok: true; record: DatasetRecord } | { ok: false; skip: Skip };
  const results = await mapLimit(checked, 8, async (c): Promise<Outcome> => {
    if (!('input' in c)) return { ok: false, skip: c };
    const skip = (reason: string): Outcome => ({ ok: false, skip: { where: c.where, reason } });
    let path: string;
    try {
      path = resolveInside(root, c.input.image);
    } catch (err) {
      if (err instanceof PathEscapeError) {
        const via = err.target !== undefined ? ` (a symbolic link to "${err.target}")` : '';
        return skip(fieldError('image', 'a path inside the dataset root', c.input.image) + via);
      }
      throw err;
    }
    const probe = await probeImage(path, c.input.image, limits);
    if (!probe.ok) return skip(probe.reason);
    const done = withImageSize(c.input, probe.size);
    return done.ok ? { ok: true, record: done.record } : skip(done.reason);
  });
  const out: Finished = { records: [], skipped: [] };
  for (const r of results) {
    if (r.ok) out.records.push(r.record);
    else out.skipped.push(r.skip);
  }
  return out;
}
