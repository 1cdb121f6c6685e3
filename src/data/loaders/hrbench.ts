/**
 * HR-Bench TSV: a header row naming the columns index, question, answer, A, B,
 * C, D, image (base64), and optionally category / cycle_category. Images are
 * decoded once into `<tsv>.images/` under the folder hrbench-root.ts names (the
 * TSV's own, or a temp cache when that cannot be written), so records carry a
 * real path. An image cell holding only another row's index reuses that row's image.
 */
import { createReadStream } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fieldError, type Skip } from '../record-schema';
import type { Candidate } from './record-checks';
import { hrbenchImageRoot } from './hrbench-root';
import { formatBytes } from './images';

const REQUIRED = ['index', 'question', 'answer', 'A', 'B', 'image'] as const;
const OPTION_COLUMNS = ['A', 'B', 'C', 'D'] as const;

function imageExt(bytes: Buffer): string | null {
  if (bytes.length >= 8 && bytes.readUInt32BE(0) === 0x89504e47) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpg';
  if (bytes.length >= 12 && bytes.toString('ascii', 0, 4) === 'RIFF' && bytes.toString('ascii', 8, 12) === 'WEBP') return 'webp';
  return null;
}

async function sameSize(path: string, bytes: number): Promise<boolean> {
  try {
    return (await stat(path)).size === bytes;
  } catch {
    return false;
  }
}

/** Creates the folder the decoded images go to, naming both places tried when it cannot. */
async function imageRoot(tsv: string): Promise<{ root: string; cacheRel: string }> {
  const { root, cacheRel, notBeside } = hrbenchImageRoot(tsv);
  try {
    await mkdir(join(root, cacheRel), { recursive: true });
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    const beside = notBeside === null ? '' : ` next to the TSV (${notBeside}) nor`;
    throw new Error(`${basename(tsv)}: cannot write the decoded images${beside} to the folder ${join(root, cacheRel)} (${why})`);
  }
  return { root, cacheRel };
}

export async function readHrbenchCandidates(
  tsv: string,
  maxImageBytes: number,
): Promise<{ candidates: Candidate[]; skipped: Skip[]; root: string }> {
  const shown = basename(tsv);
  const { root, cacheRel } = await imageRoot(tsv);
  const cacheDir = join(root, cacheRel);
  const candidates: Candidate[] = [];
  const skipped: Skip[] = [];
  const imageOf = new Map<string, string>();
  let header: string[] | null = null;
  let lineNo = 0;
  const lines = createInterface({ input: createReadStream(tsv, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    lineNo++;
    if (!line.trim()) continue;
    const cells = line.split('\t');
    const where = `${shown}:${lineNo}`;
    if (header === null) {
      header = cells.map((c) => c.trim());
      const missing = REQUIRED.filter((c) => !header!.includes(c));
      if (missing.length) throw new Error(`${where}: header must name the columns ${REQUIRED.join(', ')}; missing ${missing.join(', ')}`);
      continue;
    }
    const row: Record<string, string> = {};
    header.forEach((h, i) => {
      const v = cells[i];
      if (v !== undefined && v !== '') row[h] = v;
    });
    const index = row.index?.trim();
    if (!index) {
      skipped.push({ where, reason: fieldError('index', 'a row index', row.index) });
      continue;
    }
    const data = row.image?.trim() ?? '';
    let imageRel: string | undefined;
    if (/^\d+$/.test(data) && data.length < 12) {
      imageRel = imageOf.get(data);
      if (!imageRel) {
        skipped.push({ where, reason: fieldError('image', 'base64 image data or the index of an earlier row', data) });
        continue;
      }
    } else {
      if ((data.length * 3) / 4 > maxImageBytes) {
        skipped.push({
          where,
          reason: `image of row ${index} is ${formatBytes(Math.floor((data.length * 3) / 4))}, over the ${formatBytes(maxImageBytes)} limit`,
        });
        continue;
      }
      const bytes = Buffer.from(data, 'base64');
      const ext = imageExt(bytes);
      if (!data || !ext) {
        skipped.push({ where, reason: fieldError('image', 'base64 PNG, JPEG or WebP data', data) });
        continue;
      }
      const file = `${index.replace(/[^\w.-]/g, '_')}.${ext}`;
      imageRel = `${cacheRel}/${file}`;
      if (!(await sameSize(join(cacheDir, file), bytes.length))) await writeFile(join(cacheDir, file), bytes);
    }
    imageOf.set(index, imageRel);
    const options: string[] = [];
    for (const col of OPTION_COLUMNS) {
      if (row[col] === undefined) break;
      options.push(row[col] as string);
    }
    const meta: Record<string, string> = {};
    if (row.category) meta.category = row.category;
    if (row.cycle_category) meta.cycle_category = row.cycle_category;
    candidates.push({
      where,
      value: {
        id: index,
        image: imageRel,
        question: row.question,
        options,
        answer: row.answer?.trim(),
        evidence: [],
        family: 'other',
        meta,
      },
    });
  }
  if (header === null) throw new Error(`${shown}: empty file; expected a header row naming ${REQUIRED.join(', ')}`);
  return { candidates, skipped, root };
}
