/** Generic JSONL: one DatasetRecord per line, image paths relative to the folder of the file. */
import { readFile } from 'node:fs/promises';
import type { Candidate } from './record-checks';
import type { Skip } from '../record-schema';

/** Parses the lines of a JSONL file; blank lines are ignored, unparsable ones skipped with their line number. */
export async function readJsonlCandidates(file: string, shown: string): Promise<{ candidates: Candidate[]; skipped: Skip[] }> {
  const text = await readFile(file, 'utf8');
  const candidates: Candidate[] = [];
  const skipped: Skip[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    const where = `${shown}:${i + 1}`;
    try {
      candidates.push({ where, value: JSON.parse(line) as unknown });
    } catch (err) {
      skipped.push({ where, reason: `not valid JSON (${err instanceof Error ? err.message : String(err)})` });
    }
  });
  return { candidates, skipped };
}
