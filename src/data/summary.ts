/** A dataset summary for `ivgr data check`: counts, families, answers, image sizes. */
import type { LoadedDataset } from './loaders/load';

export interface DatasetSummary {
  format: string;
  root: string;
  loaded: number;
  skipped: number;
  skippedReasons: Array<{ where: string; reason: string }>;
  /** Records per question family ("other" when the source gives none). */
  families: Record<string, number>;
  multipleChoice: number;
  freeForm: number;
  /** Correct option letters of multiple-choice records. */
  answerLetters: Record<string, number>;
  splits: Record<string, number>;
  withEvidence: number;
  imageSizes: { minWidth: number; maxWidth: number; minHeight: number; maxHeight: number; distinct: number } | null;
}

const bump = (m: Record<string, number>, k: string): void => {
  m[k] = (m[k] ?? 0) + 1;
};

export function summarize(d: LoadedDataset): DatasetSummary {
  const families: Record<string, number> = {};
  const answerLetters: Record<string, number> = {};
  const splits: Record<string, number> = {};
  const sizes = new Set<string>();
  let mc = 0;
  let withEvidence = 0;
  for (const r of d.records) {
    bump(families, r.family ?? 'other');
    if (r.split) bump(splits, r.split);
    if (r.options) {
      mc++;
      bump(answerLetters, r.answer);
    }
    if (r.evidence.length) withEvidence++;
    sizes.add(`${r.width}x${r.height}`);
  }
  const ws = d.records.map((r) => r.width);
  const hs = d.records.map((r) => r.height);
  return {
    format: d.format,
    root: d.root,
    loaded: d.records.length,
    skipped: d.skipped.length,
    skippedReasons: d.skipped,
    families,
    multipleChoice: mc,
    freeForm: d.records.length - mc,
    answerLetters,
    splits,
    withEvidence,
    imageSizes: d.records.length
      ? {
          minWidth: Math.min(...ws),
          maxWidth: Math.max(...ws),
          minHeight: Math.min(...hs),
          maxHeight: Math.max(...hs),
          distinct: sizes.size,
        }
      : null,
  };
}

const counts = (m: Record<string, number>): string =>
  Object.entries(m)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k} ${v}`)
    .join(', ') || 'none';

export function formatSummary(s: DatasetSummary): string {
  const lines = [
    `format: ${s.format}`,
    `root: ${s.root}`,
    `records loaded: ${s.loaded}`,
    `records skipped: ${s.skipped}`,
    ...s.skippedReasons.map((k) => `  ${k.where}: ${k.reason}`),
    `question types: ${counts(s.families)}`,
    `multiple choice: ${s.multipleChoice} (answers ${counts(s.answerLetters)}), free-form: ${s.freeForm}`,
    `splits: ${counts(s.splits)}`,
    `with evidence boxes: ${s.withEvidence}`,
    s.imageSizes
      ? `image sizes: width ${s.imageSizes.minWidth}..${s.imageSizes.maxWidth}, height ${s.imageSizes.minHeight}..${s.imageSizes.maxHeight} (${s.imageSizes.distinct} distinct)`
      : 'image sizes: none',
  ];
  return lines.join('\n');
}
