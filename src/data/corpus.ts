/** Text a tokenizer for the dataset is built from. */
import type { DatasetRecord } from '../core/types';

/** Every question, option, answer and reference trace of the records, one string each. */
export function corpusLines(records: DatasetRecord[]): string[] {
  const out: string[] = [];
  for (const r of records) {
    out.push(r.question);
    if (r.options) out.push(...r.options);
    out.push(r.answer);
    if (r.reference) out.push(r.reference.textual, r.reference.grounded);
  }
  return out;
}
