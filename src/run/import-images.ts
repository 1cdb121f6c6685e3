/**
 * Images for an imported dump (`ivgr import --images <dataset>`): reads the dataset (verl / EasyR1
 * parquet with image bytes or paths, or JSONL with image paths), finds each dump row's dataset row,
 * and copies its image into the run folder's `images/`, where the panel reads it; the image's size
 * converts the boxes the output cites.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import sharp from 'sharp';
import {
  datasetImage,
  DatasetMatcher,
  IMAGE_COLUMNS,
  NO_IMAGE,
  readImageDatasetRow,
  type DatasetImage,
  type ImageDatasetRow,
} from '../core/image-join';
import type { ImageSize } from '../core/types';
import { ParquetTable } from '../data/loaders/parquet-rows';
import type { DumpRow, JoinedImage } from './import-dump';

export class ImportImages {
  private readonly joined = new Map<ImageDatasetRow, JoinedImage | null>();
  private matched = 0;
  private unmatched = 0;

  private constructor(
    readonly dataset: string,
    private readonly matcher: DatasetMatcher<ImageDatasetRow>,
    private readonly runDir: string,
    private readonly warn: (text: string) => void,
    /** A parquet dataset's image columns, read for the matched rows only. */
    private readonly later: { table: ParquetTable; columns: string[] } | null,
  ) {}

  /** Reads the dataset; throws naming the file and the row that is not a dataset row. */
  static async open(dataset: string, runDir: string, warn: (text: string) => void): Promise<ImportImages> {
    const file = resolve(dataset);
    if (!existsSync(file)) throw new Error(`${dataset}: no such dataset file`);
    if (/\.parquet$/i.test(file)) {
      const table = await ParquetTable.open(file);
      const columns = table.columns.filter((c) => IMAGE_COLUMNS.includes(c));
      const rest = table.columns.filter((c) => !IMAGE_COLUMNS.includes(c));
      if (columns.length === 0 && !rest.includes('image_path')) throw new Error(`${file}: ${NO_IMAGE}`);
      const rows = (await table.rows(rest)).map((o, i) => readImageDatasetRow(o, i + 1, `${file} row ${i + 1}`, true));
      if (rows.length === 0) throw new Error(`${dataset}: no rows`);
      return new ImportImages(file, new DatasetMatcher(rows), runDir, warn, { table, columns });
    }
    const rows = jsonlRows(file);
    if (rows.length === 0) throw new Error(`${dataset}: no rows`);
    return new ImportImages(file, new DatasetMatcher(rows), runDir, warn, null);
  }

  /** Finds and copies the images of `rows` (each dataset image once); a missing or unreadable image is warned about and left out. */
  async prepare(rows: readonly DumpRow[]): Promise<void> {
    const todo = new Set<ImageDatasetRow>();
    for (const row of rows) {
      const found = this.matcher.match(row);
      if (!found) {
        this.unmatched++;
        continue;
      }
      this.matched++;
      if (!this.joined.has(found)) todo.add(found);
    }
    const images = await this.imagesOf([...todo]);
    for (const r of todo) {
      try {
        const image = images.get(r);
        if (!image) throw new Error(NO_IMAGE);
        this.joined.set(r, await this.copy(r.row, image));
      } catch (err) {
        this.joined.set(r, null);
        this.warn(`${this.dataset} row ${r.row}: ${(err as Error).message}`);
      }
    }
  }

  /** The images of dataset rows, reading a parquet file's image columns for these rows only. */
  private async imagesOf(rows: ImageDatasetRow[]): Promise<Map<ImageDatasetRow, DatasetImage>> {
    const out = new Map<ImageDatasetRow, DatasetImage>();
    for (const r of rows) if (r.image) out.set(r, r.image);
    const rest = rows.filter((r) => !r.image);
    if (!this.later || rest.length === 0) return out;
    const picked = await this.later.table.pick(
      rest.map((r) => r.row - 1),
      this.later.columns,
    );
    for (const r of rest) {
      const image = datasetImage(picked.get(r.row - 1));
      if (image) out.set(r, image);
    }
    return out;
  }

  /** The image joined to a row by `prepare`. */
  imageOf(row: DumpRow): JoinedImage | undefined {
    const found = this.matcher.match(row);
    return (found && this.joined.get(found)) || undefined;
  }

  /** "images joined to 10 of 12 rollouts". */
  summary(): string {
    return `images joined to ${this.matched} of ${this.matched + this.unmatched} rollouts`;
  }

  private async copy(row: number, image: DatasetImage): Promise<JoinedImage> {
    const dir = join(this.runDir, 'images');
    mkdirSync(dir, { recursive: true });
    if ('bytes' in image) {
      const size = await sizeOf(image.bytes);
      const name = `row-${row}.${size.format}`;
      writeFileSync(join(dir, name), image.bytes);
      return { path: `images/${name}`, size };
    }
    const source = isAbsolute(image.path) ? image.path : resolve(dirname(this.dataset), image.path);
    if (!existsSync(source)) throw new Error(`image ${image.path}: no such file (looked at ${source})`);
    const size = await sizeOf(readFileSync(source));
    const name = `row-${row}-${basename(source, extname(source)).replace(/[^A-Za-z0-9._-]/g, '_')}${extname(source)}`;
    copyFileSync(source, join(dir, name));
    return { path: `images/${name}`, size };
  }
}

async function sizeOf(bytes: Uint8Array): Promise<ImageSize & { format: string }> {
  try {
    const m = await sharp(bytes).metadata();
    if (!m.width || !m.height) throw new Error('no width or height');
    return { width: m.width, height: m.height, format: m.format === 'jpeg' ? 'jpg' : m.format };
  } catch (err) {
    throw new Error(`not a readable image: ${(err as Error).message}`);
  }
}

function jsonlRows(file: string): ImageDatasetRow[] {
  const rows: ImageDatasetRow[] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return;
      let obj: unknown;
      try {
        obj = JSON.parse(line);
      } catch {
        throw new Error(`${file}:${i + 1}: not valid JSON`);
      }
      rows.push(readImageDatasetRow(obj, i + 1, `${file}:${i + 1}`));
    });
  return rows;
}
