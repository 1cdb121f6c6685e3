/**
 * The rows of a parquet file as plain objects (verl and EasyR1 datasets ship as parquet). Binary
 * columns stay bytes, so image bytes are not decoded as text; 64-bit integers become numbers.
 */
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';

export async function readParquetRows(file: string): Promise<Record<string, unknown>[]> {
  try {
    const rows = await parquetReadObjects({ file: await asyncBufferFromFile(file), utf8: false });
    return rows.map((r) => toNumbers(r) as Record<string, unknown>);
  } catch (err) {
    throw new Error(`${file}: not a readable parquet file: ${(err as Error).message}`);
  }
}

function toNumbers(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(toNumbers);
  if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array) && !(v instanceof Date))
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toNumbers(x)]));
  return v;
}
