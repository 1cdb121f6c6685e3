/** loadDataset: detects a dataset's format and loads it through the shared record checks. */
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { DatasetRecord } from '../../core/types';
import type { Skip } from '../record-schema';
import { readManifest } from '../synthetic/dataset';
import { SPLITS } from '../synthetic/generate';
import { finishRecords, type Candidate } from './record-checks';
import { readHrbenchCandidates } from './hrbench';
import { DEFAULT_MAX_IMAGE_BYTES, DEFAULT_MAX_IMAGE_PIXELS } from './images';
import { readJsonlCandidates } from './jsonl';
import { looksLikeVstar, readVstarCandidates } from './vstar';

export type DatasetFormat = 'synthetic' | 'vstar' | 'hrbench' | 'jsonl';
export const DATASET_FORMATS: readonly DatasetFormat[] = ['synthetic', 'vstar', 'hrbench', 'jsonl'];

export interface LoadedDataset {
  records: DatasetRecord[];
  /** Folder that record image paths are relative to. */
  root: string;
  skipped: Skip[];
  format: string;
}

export interface LoadOptions {
  format?: DatasetFormat;
  /** Only this split (synthetic datasets: train, val or test; others: records whose `split` matches). */
  split?: string;
  maxImageBytes?: number;
  maxImagePixels?: number;
}

async function kind(path: string): Promise<'file' | 'dir'> {
  try {
    return (await stat(path)).isDirectory() ? 'dir' : 'file';
  } catch {
    throw new Error(`dataset not found: ${path}`);
  }
}

/** The single file of `ext` in `dir`, or null. */
async function onlyFile(dir: string, ext: string): Promise<string | null> {
  const files = (await readdir(dir)).filter((f) => f.endsWith(ext));
  return files.length === 1 ? join(dir, files[0] as string) : null;
}

async function detect(path: string): Promise<{ format: DatasetFormat; file: string | null }> {
  if ((await kind(path)) === 'file') {
    if (path.endsWith('.tsv')) return { format: 'hrbench', file: path };
    if (path.endsWith('.jsonl')) return { format: 'jsonl', file: path };
    throw new Error(
      `${path}: cannot tell the dataset format from the file name; expected a .tsv (HR-Bench) or .jsonl file, or pass --format`,
    );
  }
  if (await readManifest(path)) return { format: 'synthetic', file: null };
  const tsv = await onlyFile(path, '.tsv');
  if (tsv) return { format: 'hrbench', file: tsv };
  const jsonl = await onlyFile(path, '.jsonl');
  if (jsonl) return { format: 'jsonl', file: jsonl };
  if (await looksLikeVstar(path)) return { format: 'vstar', file: null };
  throw new Error(
    `${path}: not a recognised dataset; expected a synthetic dataset (manifest.json), a V*Bench folder (category folders of images with JSON annotations), an HR-Bench .tsv or a .jsonl file`,
  );
}

async function fileFor(path: string, ext: string, format: DatasetFormat): Promise<string> {
  if ((await kind(path)) === 'file') return path;
  const f = await onlyFile(path, ext);
  if (!f) throw new Error(`${path}: expected exactly one ${ext} file for format ${format}`);
  return f;
}

/**
 * Loads any supported dataset. Records that fail a check (schema, path escape,
 * missing, corrupt or oversize image) are listed in `skipped`; the rest load.
 * Throws only when the dataset as a whole cannot be read.
 */
export async function loadDataset(path: string, opts: LoadOptions = {}): Promise<LoadedDataset> {
  const limits = { maxBytes: opts.maxImageBytes ?? DEFAULT_MAX_IMAGE_BYTES, maxPixels: opts.maxImagePixels ?? DEFAULT_MAX_IMAGE_PIXELS };
  const full = resolve(path);
  const detected = opts.format ? { format: opts.format, file: null } : await detect(full);
  const format = detected.format;
  let root: string;
  let read: { candidates: Candidate[]; skipped: Skip[] };
  switch (format) {
    case 'synthetic': {
      root = (await kind(full)) === 'dir' ? full : dirname(full);
      const manifest = await readManifest(root);
      if (!manifest) throw new Error(`${join(root, 'manifest.json')}: not found or not a synthetic dataset manifest`);
      if (opts.split !== undefined && !(SPLITS as readonly string[]).includes(opts.split))
        throw new Error(`unknown split "${opts.split}"; expected one of ${SPLITS.join(', ')}`);
      read = { candidates: [], skipped: [] };
      for (const split of opts.split ? [opts.split] : SPLITS) {
        const part = await readJsonlCandidates(join(root, `${split}.jsonl`), `${split}.jsonl`);
        read.candidates.push(...part.candidates);
        read.skipped.push(...part.skipped);
      }
      break;
    }
    case 'jsonl': {
      const file = detected.file ?? (await fileFor(full, '.jsonl', format));
      root = dirname(file);
      read = await readJsonlCandidates(file, basename(file));
      break;
    }
    case 'hrbench': {
      const file = detected.file ?? (await fileFor(full, '.tsv', format));
      const hr = await readHrbenchCandidates(file, limits.maxBytes);
      root = hr.root;
      read = hr;
      break;
    }
    case 'vstar': {
      if ((await kind(full)) !== 'dir') throw new Error(`${path}: a V*Bench dataset is a folder of category folders`);
      root = full;
      read = await readVstarCandidates(full);
      break;
    }
  }
  const done = await finishRecords(root, read.candidates, limits);
  const records = format !== 'synthetic' && opts.split !== undefined ? done.records.filter((r) => r.split === opts.split) : done.records;
  return { records, root, skipped: inFileOrder([...read.skipped, ...done.skipped]), format };
}

/** Skips sorted by file, then line, so a report reads top to bottom. */
function inFileOrder(skips: Skip[]): Skip[] {
  const key = (s: Skip): [string, number] => {
    const m = /^(.*):(\d+)$/.exec(s.where);
    return m ? [m[1] as string, Number(m[2])] : [s.where, 0];
  };
  return skips
    .map((s, i) => ({ s, i, k: key(s) }))
    .sort((a, b) => a.k[0].localeCompare(b.k[0]) || a.k[1] - b.k[1] || a.i - b.i)
    .map((x) => x.s);
}
