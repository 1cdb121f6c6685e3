/**
 * The dataset record schema every loader validates against. Errors read
 * `<file>:<line>: field "<path>": expected …, got …` (see `Skip`).
 */
import { z } from 'zod';
import type { Box, DatasetRecord, ImageSize } from '../core/types';

const FAMILIES = ['attribute', 'text', 'position', 'count', 'other'] as const;
const LETTERS = 'ABCDEFGHIJ';

const nonEmpty = (what: string) =>
  z
    .string({ error: `${what} (a non-empty string)` })
    .trim()
    .min(1, { error: `${what} (a non-empty string)` });
const coord = z.number({ error: 'a finite number' }).finite({ error: 'a finite number' });
const boxSchema = z.tuple([coord, coord, coord, coord], { error: 'a box [x1,y1,x2,y2] of 4 numbers' });
const dimension = z
  .number({ error: 'a positive integer (pixels)' })
  .int({ error: 'a positive integer (pixels)' })
  .positive({ error: 'a positive integer (pixels)' });

/** A record as stored; width and height may be left out and are then read from the image. */
export const recordInputSchema = z
  .object(
    {
      id: z.union([nonEmpty('an id'), z.number().int()], { error: 'an id (a non-empty string or an integer)' }).transform(String),
      image: nonEmpty('an image path relative to the dataset root'),
      width: dimension.optional(),
      height: dimension.optional(),
      question: nonEmpty('the question'),
      options: z
        .array(nonEmpty('an option text'), { error: 'a list of option texts' })
        .min(2, { error: 'at least 2 options' })
        .max(LETTERS.length, { error: `at most ${LETTERS.length} options` })
        .optional(),
      answer: z.union([nonEmpty('the answer'), z.number().transform(String)], { error: 'the answer (an option letter or a short text)' }),
      evidence: z.array(boxSchema, { error: 'a list of boxes [x1,y1,x2,y2]' }).default([]),
      evidenceLabels: z.array(z.string({ error: 'a label string' }), { error: 'a list of label strings' }).optional(),
      family: z.enum(FAMILIES, { error: `one of ${FAMILIES.join(', ')}` }).optional(),
      split: z.string({ error: 'a split name' }).optional(),
      reference: z
        .object(
          { textual: z.string({ error: 'a trace string' }), grounded: z.string({ error: 'a trace string' }) },
          { error: 'an object {textual, grounded}' },
        )
        .optional(),
      meta: z
        .record(z.string(), z.union([z.string(), z.number(), z.boolean()]), { error: 'an object of string, number or boolean values' })
        .optional(),
    },
    { error: 'a JSON object' },
  )
  .superRefine((r, ctx) => {
    r.evidence.forEach((b, i) => {
      if (!(b[0] <= b[2] && b[1] <= b[3]))
        ctx.addIssue({ code: 'custom', path: ['evidence', i], message: 'a box [x1,y1,x2,y2] with x1 <= x2 and y1 <= y2', input: b });
    });
    if (r.evidenceLabels && r.evidenceLabels.length !== r.evidence.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['evidenceLabels'],
        message: `one label per evidence box (${r.evidence.length})`,
        input: r.evidenceLabels,
      });
    }
    if (r.options) {
      const letters = LETTERS.slice(0, r.options.length);
      if (!(r.answer.length === 1 && letters.includes(r.answer))) {
        ctx.addIssue({
          code: 'custom',
          path: ['answer'],
          message: `an option letter ${letters[0]}..${letters[letters.length - 1]}`,
          input: r.answer,
        });
      }
    }
  });

export type RecordInput = z.infer<typeof recordInputSchema>;

/** Short JSON rendering of a bad value for error messages. */
export function preview(value: unknown): string {
  if (value === undefined) return 'nothing';
  const s = JSON.stringify(value) ?? String(value);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** `evidence[0][2]`, `reference.textual`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

/** `field "<path>": expected …, got …` — the reason part of a record error. */
export function fieldError(path: string, expected: string, got: unknown): string {
  return `field "${path}": expected ${expected}, got ${preview(got)}`;
}

/** A skipped record: `where` is `<file>:<line>` (or the file), `reason` says what was wrong. */
export interface Skip {
  where: string;
  reason: string;
}

export function formatSkip(s: Skip): string {
  return `${s.where}: ${s.reason}`;
}

export type RecordCheck<T> = { ok: true; record: T } | { ok: false; reason: string };

/** Validates one record's structure. */
export function parseRecordInput(value: unknown): RecordCheck<RecordInput> {
  const r = recordInputSchema.safeParse(value, { reportInput: true });
  if (r.success) return { ok: true, record: r.data };
  const issue = r.error.issues[0] as z.core.$ZodIssue;
  const path = issue.path.length ? formatPath(issue.path) : '(record)';
  return { ok: false, reason: fieldError(path, issue.message, issue.input) };
}

/**
 * Completes a validated record with the real image size: fills width/height
 * when absent, rejects a stated size that disagrees with the image, and
 * rejects evidence boxes outside the image.
 */
export function withImageSize(input: RecordInput, size: ImageSize): RecordCheck<DatasetRecord> {
  if ((input.width !== undefined && input.width !== size.width) || (input.height !== undefined && input.height !== size.height)) {
    const path = input.width !== undefined && input.width !== size.width ? 'width' : 'height';
    return {
      ok: false,
      reason: fieldError(path, `the image's size ${size.width}x${size.height}`, path === 'width' ? input.width : input.height),
    };
  }
  for (const [i, b] of input.evidence.entries()) {
    if (b[0] < 0 || b[1] < 0 || b[2] > size.width || b[3] > size.height) {
      return { ok: false, reason: fieldError(`evidence[${i}]`, `a box inside the ${size.width}x${size.height} image`, b) };
    }
  }
  const record: DatasetRecord = { ...input, width: size.width, height: size.height, evidence: input.evidence.map((b) => [...b] as Box) };
  if (record.options === undefined) delete record.options;
  for (const k of ['evidenceLabels', 'family', 'split', 'reference', 'meta'] as const) if (record[k] === undefined) delete record[k];
  return { ok: true, record };
}
