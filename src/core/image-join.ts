/**
 * Joining dump rows to the dataset rows they were generated from, for their images: a verl or
 * EasyR1 parquet row, or a JSONL line, read as (id, question, image); a dump row matches by the id
 * it names, else by its question text.
 */
import { normalizeQuestion, userTurn } from './dump-text';

/** An image as datasets store it: encoded bytes, or a path (relative to the dataset file's folder). */
export type DatasetImage = { bytes: Uint8Array } | { path: string };

export interface ImageDatasetRow {
  /** 1-based row (parquet) or line (JSONL) number, for messages. */
  row: number;
  id?: string;
  question: string;
  /** Absent when the image columns are read later, for the matched rows only. */
  image?: DatasetImage;
}

const ID_FIELDS = ['id', 'index', 'question_id', 'sample_id'];
const QUESTION_FIELDS = ['question', 'problem', 'query'];
/** Columns that may hold image bytes: a parquet reader leaves them for the rows a dump matches. */
export const IMAGE_COLUMNS = ['images', 'image'];
const IMAGE_FIELDS = [...IMAGE_COLUMNS, 'image_path'];

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);
const scalar = (v: unknown): string | undefined =>
  typeof v === 'string' && v !== '' ? v : typeof v === 'number' || typeof v === 'bigint' ? String(v) : undefined;

/** The text of a chat message's content: a string, or a list of parts of which the text ones count. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p) => (isObject(p) && typeof p.text === 'string' ? p.text : '')).join(' ');
  return '';
}

function questionOf(o: Record<string, unknown>): string | undefined {
  const extra = isObject(o.extra_info) ? o.extra_info : {};
  for (const v of [...QUESTION_FIELDS.map((k) => o[k]), extra.question]) if (typeof v === 'string' && v.trim() !== '') return v;
  // verl's `prompt` is the chat message list; its last user message holds the question.
  if (Array.isArray(o.prompt)) {
    const user = o.prompt.filter((m) => isObject(m) && m.role === 'user').at(-1);
    if (isObject(user)) return contentText(user.content);
  }
  return typeof o.prompt === 'string' ? o.prompt : undefined;
}

function imageOf(v: unknown): DatasetImage | undefined {
  if (Array.isArray(v)) return imageOf(v[0]);
  if (v instanceof Uint8Array) return { bytes: v };
  if (typeof v === 'string' && v !== '') return { path: v };
  if (isObject(v)) {
    if (v.bytes instanceof Uint8Array && v.bytes.length > 0) return { bytes: v.bytes };
    if (typeof v.path === 'string' && v.path !== '') return { path: v.path };
  }
  return undefined;
}

/** The image a dataset row holds (the first of several), if any. */
export function datasetImage(obj: unknown): DatasetImage | undefined {
  return isObject(obj) ? IMAGE_FIELDS.map((k) => imageOf(obj[k])).find((i) => i !== undefined) : undefined;
}

export const NO_IMAGE = 'no image: expected "images" or "image" holding bytes or a path';

/**
 * Reads one dataset row; throws naming `where` and what it lacks. Row shapes: verl (`prompt`
 * messages, `images`, `extra_info.index`), EasyR1 (`problem`, `images`), JSONL (`question`, `image`).
 * `imageLater`: the image columns were left out and are read for the matched rows.
 */
export function readImageDatasetRow(obj: unknown, row: number, where: string, imageLater = false): ImageDatasetRow {
  if (!isObject(obj)) throw new Error(`${where}: expected an object`);
  const question = questionOf(obj);
  if (question === undefined)
    throw new Error(`${where}: no question: expected "question", "problem", "extra_info.question" or a "prompt" with a user message`);
  const image = datasetImage(obj);
  if (!image && !imageLater) throw new Error(`${where}: ${NO_IMAGE}`);
  const extra = isObject(obj.extra_info) ? obj.extra_info : {};
  const id = [...ID_FIELDS.map((k) => obj[k]), extra.index].map(scalar).find((v) => v !== undefined);
  return { row, question, ...(image ? { image } : {}), ...(id !== undefined ? { id } : {}) };
}

/** Questions shorter than this are not searched for inside prompts: too likely to match by chance. */
const MIN_CONTAINED = 8;

/** Finds the dataset row of a dump row: by id, else by question (the user turn, else contained in the prompt). */
export class DatasetMatcher<T extends ImageDatasetRow> {
  private readonly byId = new Map<string, T>();
  private readonly byQuestion = new Map<string, T>();
  /** Longest first, so a question that contains another wins. */
  private readonly questions: [string, T][];
  private readonly cache = new Map<string, T | undefined>();

  constructor(rows: readonly T[]) {
    for (const r of rows) {
      if (r.id !== undefined && !this.byId.has(r.id)) this.byId.set(r.id, r);
      const q = normalizeQuestion(r.question);
      if (q && !this.byQuestion.has(q)) this.byQuestion.set(q, r);
    }
    this.questions = [...this.byQuestion].filter(([q]) => q.length >= MIN_CONTAINED).sort((a, b) => b[0].length - a[0].length);
  }

  match(dump: { ref?: string; input: string }): T | undefined {
    const byId = dump.ref !== undefined ? this.byId.get(dump.ref) : undefined;
    if (byId) return byId;
    if (this.cache.has(dump.input)) return this.cache.get(dump.input);
    const turn = userTurn(dump.input);
    let found = this.byQuestion.get(turn);
    if (!found) {
      const prompt = normalizeQuestion(dump.input);
      found = this.questions.find(([q]) => prompt.includes(q))?.[1];
    }
    this.cache.set(dump.input, found);
    return found;
  }
}
