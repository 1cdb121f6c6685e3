/**
 * The rollout column index persisted between panel opens, in `<run>/cache/rollout-index.bin`
 * (events/ stays append-only). Binary: a 64-byte header, then each column's bytes for `count`
 * rows. The header ties the cache to the rollouts file it was built from — its size and mtime
 * then, CRC-32s of its first bytes and of the bytes just before the covered offset — and holds
 * that offset, so a reopen trusts the cache only for an unchanged or appended-to file and reads
 * just the bytes after it. A cache that fails any check is reported and never used.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';

export interface IndexColumns {
  offset: Float64Array;
  length: Uint32Array;
  step: Int32Array;
  stream: Uint8Array;
  correct: Uint8Array;
  boxes: Uint16Array;
  score: Float32Array;
  advantage: Float32Array;
  idHash: Uint32Array;
  promptHash: Uint32Array;
  /** 1 for a rollout of an earlier attempt of its step (a replayed step keeps its last attempt). */
  superseded: Uint8Array;
}

export function allocateColumns(n: number): IndexColumns {
  return {
    offset: new Float64Array(n),
    length: new Uint32Array(n),
    step: new Int32Array(n),
    stream: new Uint8Array(n),
    correct: new Uint8Array(n),
    boxes: new Uint16Array(n),
    score: new Float32Array(n),
    advantage: new Float32Array(n),
    idHash: new Uint32Array(n),
    promptHash: new Uint32Array(n),
    superseded: new Uint8Array(n),
  };
}

/** Widest columns first, so every column starts aligned to its element size. */
const ORDER: (keyof IndexColumns)[] = [
  'offset',
  'length',
  'step',
  'score',
  'advantage',
  'idHash',
  'promptHash',
  'boxes',
  'stream',
  'correct',
  'superseded',
];
const ROW_BYTES = ORDER.reduce((n, k) => n + allocateColumns(0)[k].BYTES_PER_ELEMENT, 0);
const MAGIC = Buffer.from('IVGRIDX\0', 'latin1');
const VERSION = 2;
const HEADER = 64;
/** How many bytes of the rollouts file each identity hash covers. */
const PROBE = 4096;

export interface CachedIndex {
  columns: IndexColumns;
  count: number;
  /** Bytes of the rollouts file the rows cover (the start of the first line not in them). */
  bytesIndexed: number;
}

/** CRC-32s of the first bytes and of the bytes just before `covered`, which a rewrite or a foreign file would change. */
function fileProbes(fd: number, covered: number): { head: number; end: number } {
  const read = (from: number, to: number): number => {
    const buf = Buffer.alloc(to - from);
    const n = readSync(fd, buf, 0, buf.length, from);
    return crc32(buf.subarray(0, n));
  };
  return { head: read(0, Math.min(PROBE, covered)), end: read(Math.max(0, covered - PROBE), covered) };
}

/** Writes the index atomically (temp file + rename); returns the cache's size in bytes. */
export async function saveIndexCache(cacheFile: string, rolloutsFile: string, index: CachedIndex): Promise<number> {
  const { columns, count, bytesIndexed } = index;
  const fd = openSync(rolloutsFile, 'r');
  let st;
  let probes;
  try {
    st = fstatSync(fd);
    probes = fileProbes(fd, bytesIndexed);
  } finally {
    closeSync(fd);
  }
  const payload = Buffer.concat(
    ORDER.map((k) => {
      const col = columns[k];
      return Buffer.from(col.buffer, col.byteOffset, count * col.BYTES_PER_ELEMENT);
    }),
  );
  const header = Buffer.alloc(HEADER);
  MAGIC.copy(header, 0);
  header.writeUInt32LE(VERSION, 8);
  header.writeUInt32LE(count, 12);
  header.writeDoubleLE(bytesIndexed, 16);
  header.writeDoubleLE(st.size, 24);
  header.writeDoubleLE(st.mtimeMs, 32);
  header.writeUInt32LE(probes.head, 40);
  header.writeUInt32LE(probes.end, 44);
  header.writeUInt32LE(crc32(payload), 48);
  await mkdir(dirname(cacheFile), { recursive: true });
  const tmp = `${cacheFile}.${process.pid}.tmp`;
  await writeFile(tmp, Buffer.concat([header, payload]));
  await rename(tmp, cacheFile);
  return HEADER + payload.length;
}

export type LoadResult = { ok: true; index: CachedIndex } | { ok: false; reason: string };

/**
 * Reads a cache written by `saveIndexCache` for `rolloutsFile`. `capacity` rows are allocated at
 * least, so the index can keep appending. A missing cache is `{ok: false, reason: 'none'}`.
 */
export async function loadIndexCache(cacheFile: string, rolloutsFile: string, capacity = 1024): Promise<LoadResult> {
  let buf: Buffer;
  try {
    buf = await readFile(cacheFile);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { ok: false, reason: 'none' };
    return { ok: false, reason: `cannot read it: ${(e as Error).message}` };
  }
  if (buf.length < HEADER || !buf.subarray(0, 8).equals(MAGIC)) return { ok: false, reason: 'not a rollout index cache (bad magic)' };
  const version = buf.readUInt32LE(8);
  if (version !== VERSION) return { ok: false, reason: `format version ${version}, expected ${VERSION}` };
  const count = buf.readUInt32LE(12);
  const bytesIndexed = buf.readDoubleLE(16);
  const want = HEADER + count * ROW_BYTES;
  if (buf.length !== want) return { ok: false, reason: `truncated: ${buf.length} bytes, expected ${want} for ${count} rows` };
  const payload = buf.subarray(HEADER);
  if (crc32(payload) !== buf.readUInt32LE(48)) return { ok: false, reason: 'corrupt: checksum mismatch' };

  let fd: number;
  try {
    fd = openSync(rolloutsFile, 'r');
  } catch {
    return { ok: false, reason: `${rolloutsFile} is missing` };
  }
  try {
    const st = fstatSync(fd);
    if (st.size < bytesIndexed)
      return { ok: false, reason: `stale: ${rolloutsFile} has ${st.size} bytes, the cache covers ${bytesIndexed}` };
    if (st.size === buf.readDoubleLE(24) && st.mtimeMs !== buf.readDoubleLE(32))
      return { ok: false, reason: `stale: ${rolloutsFile} was modified without growing` };
    const probes = fileProbes(fd, bytesIndexed);
    if (probes.head !== buf.readUInt32LE(40) || probes.end !== buf.readUInt32LE(44))
      return { ok: false, reason: `stale: the cache was built from other contents than ${rolloutsFile} holds` };
  } finally {
    closeSync(fd);
  }

  const columns = allocateColumns(Math.max(capacity, count));
  let at = 0;
  for (const k of ORDER) {
    const col = columns[k];
    const bytes = count * col.BYTES_PER_ELEMENT;
    payload.copy(new Uint8Array(col.buffer), 0, at, at + bytes);
    at += bytes;
  }
  if (count > 0 && columns.offset[count - 1]! + columns.length[count - 1]! > bytesIndexed)
    return { ok: false, reason: 'corrupt: rows reach past the covered offset' };
  return { ok: true, index: { columns, count, bytesIndexed } };
}
