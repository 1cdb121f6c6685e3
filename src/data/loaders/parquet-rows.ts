/**
 * Rows of a parquet file as plain objects (verl and EasyR1 datasets ship as parquet). Binary
 * columns stay bytes, so image bytes are not decoded as text; 64-bit integers become numbers.
 * Columns can be read for chosen rows only, one row group at a time, so a dataset's image bytes
 * are never all in memory.
 */
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema } from 'hyparquet';

type AsyncBuffer = Awaited<ReturnType<typeof asyncBufferFromFile>>;
type Metadata = Awaited<ReturnType<typeof parquetMetadataAsync>>;

export class ParquetTable {
  private constructor(
    readonly file: string,
    private readonly buffer: AsyncBuffer,
    private readonly metadata: Metadata,
  ) {}

  /** Reads the file's footer; throws naming the file when it is not parquet. */
  static async open(file: string): Promise<ParquetTable> {
    try {
      const buffer = await asyncBufferFromFile(file);
      return new ParquetTable(file, buffer, await parquetMetadataAsync(buffer));
    } catch (err) {
      throw new Error(`${file}: not a readable parquet file: ${(err as Error).message}`);
    }
  }

  /** The top-level column names. */
  get columns(): string[] {
    return parquetSchema(this.metadata).children.map((c) => c.element.name);
  }

  /** Every row, with only `columns`. */
  async rows(columns: string[]): Promise<Record<string, unknown>[]> {
    return this.read({ columns });
  }

  /** The given rows (0-based), with only `columns`, read a row group at a time. */
  async pick(indices: Iterable<number>, columns: string[]): Promise<Map<number, Record<string, unknown>>> {
    const wanted = [...new Set(indices)].sort((a, b) => a - b);
    const out = new Map<number, Record<string, unknown>>();
    let start = 0;
    for (const group of this.metadata.row_groups) {
      const end = start + Number(group.num_rows);
      const inGroup = wanted.filter((i) => i >= start && i < end);
      if (inGroup.length > 0) {
        const first = inGroup[0]!;
        const rows = await this.read({ columns, rowStart: first, rowEnd: inGroup.at(-1)! + 1 });
        for (const i of inGroup) out.set(i, rows[i - first]!);
      }
      start = end;
    }
    return out;
  }

  private async read(range: { columns: string[]; rowStart?: number; rowEnd?: number }): Promise<Record<string, unknown>[]> {
    try {
      const rows = await parquetReadObjects({ file: this.buffer, metadata: this.metadata, utf8: false, ...range });
      return rows.map((r) => toNumbers(r) as Record<string, unknown>);
    } catch (err) {
      throw new Error(`${this.file}: not a readable parquet file: ${(err as Error).message}`);
    }
  }
}

function toNumbers(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(toNumbers);
  if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array) && !(v instanceof Date))
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toNumbers(x)]));
  return v;
}
