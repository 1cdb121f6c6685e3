/**
 * V*Bench layout: category folders (e.g. direct_attributes/, relative_position/)
 * holding images with a same-named JSON annotation each:
 * `{ "question", "options": [correct first, ...], "target_object": [names], "bbox": [[x, y, w, h], ...] }`.
 * An `"answer"` letter, when present, marks the correct option instead of "first".
 * Options are rotated so correct letters are balanced across the set.
 */
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { QuestionFamily } from '../../core/types';
import { fieldError, preview, type Skip } from '../record-schema';
import type { Candidate } from './record-checks';

const IMAGE_EXT = new Set(['.jpg', '.jpeg', '.png', '.webp', '.bmp', '.tif', '.tiff']);
const LETTERS = 'ABCDEFGHIJ';

const FAMILY: Record<string, QuestionFamily> = { direct_attributes: 'attribute', relative_position: 'position' };

/** True when `root` has at least one subfolder with an image and its JSON annotation. */
export async function looksLikeVstar(root: string): Promise<boolean> {
  for (const d of await readdir(root, { withFileTypes: true })) {
    if (!d.isDirectory()) continue;
    const names = new Set(await readdir(join(root, d.name)));
    for (const n of names) if (IMAGE_EXT.has(extname(n).toLowerCase()) && names.has(`${n.slice(0, -extname(n).length)}.json`)) return true;
  }
  return false;
}

function toCandidate(
  where: string,
  category: string,
  stem: string,
  imageRel: string,
  a: Record<string, unknown>,
  order: number,
): Candidate | Skip {
  const options = a.options;
  if (!Array.isArray(options) || options.length < 2)
    return { where, reason: fieldError('options', 'a list of at least 2 option texts', options) };
  let correct = 0;
  if (a.answer !== undefined) {
    correct = typeof a.answer === 'string' ? LETTERS.indexOf(a.answer.trim().toUpperCase()) : -1;
    if (correct < 0 || correct >= options.length)
      return { where, reason: fieldError('answer', `an option letter A..${LETTERS[options.length - 1]}`, a.answer) };
  }
  const rawBoxes = a.bbox ?? [];
  if (!Array.isArray(rawBoxes)) return { where, reason: fieldError('bbox', 'a list of boxes [x, y, w, h]', rawBoxes) };
  const evidence: number[][] = [];
  for (const [i, b] of rawBoxes.entries()) {
    if (!Array.isArray(b) || b.length !== 4 || !b.every((v) => typeof v === 'number' && Number.isFinite(v)) || b[2] < 0 || b[3] < 0) {
      return { where, reason: fieldError(`bbox[${i}]`, 'a box [x, y, w, h] of 4 numbers with w, h >= 0', b) };
    }
    const [x, y, w, h] = b as [number, number, number, number];
    evidence.push([x, y, x + w, y + h]);
  }
  const names = Array.isArray(a.target_object)
    ? a.target_object.map(String)
    : typeof a.target_object === 'string'
      ? [a.target_object]
      : undefined;
  // Move the correct option to a slot that cycles with the record's position.
  const slot = order % options.length;
  const rest = options.filter((_, i) => i !== correct);
  rest.splice(slot, 0, options[correct]);
  return {
    where,
    value: {
      id: `${category}/${stem}`,
      image: imageRel,
      question: a.question,
      options: rest,
      answer: LETTERS[slot],
      evidence,
      ...(names && names.length === evidence.length ? { evidenceLabels: names } : {}),
      family: FAMILY[category] ?? 'other',
      meta: { category, ...(names ? { targets: names.join(', ') } : {}) },
    },
  };
}

export async function readVstarCandidates(root: string): Promise<{ candidates: Candidate[]; skipped: Skip[] }> {
  const candidates: Candidate[] = [];
  const skipped: Skip[] = [];
  const categories = (await readdir(root, { withFileTypes: true }))
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  let order = 0;
  for (const category of categories) {
    const names = (await readdir(join(root, category))).sort();
    const present = new Set(names);
    for (const name of names) {
      const ext = extname(name);
      if (!IMAGE_EXT.has(ext.toLowerCase())) continue;
      const stem = name.slice(0, -ext.length);
      const imageRel = `${category}/${name}`;
      const annRel = `${category}/${stem}.json`;
      if (!present.has(`${stem}.json`)) {
        skipped.push({ where: imageRel, reason: `annotation "${annRel}" not found` });
        continue;
      }
      let ann: unknown;
      try {
        ann = JSON.parse(await readFile(join(root, annRel), 'utf8'));
      } catch (err) {
        skipped.push({ where: annRel, reason: `not valid JSON (${err instanceof Error ? err.message : String(err)})` });
        continue;
      }
      if (typeof ann !== 'object' || ann === null || Array.isArray(ann)) {
        skipped.push({ where: annRel, reason: `expected a JSON object, got ${preview(ann)}` });
        continue;
      }
      const c = toCandidate(annRel, category, stem, imageRel, ann as Record<string, unknown>, order);
      if ('reason' in c) skipped.push(c);
      else {
        candidates.push(c);
        order++;
      }
    }
  }
  return { candidates, skipped };
}
