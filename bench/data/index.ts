/**
 * Synthetic benchmark rendering speed: scene generation + SVG + sharp PNG
 * encode, one image at a time on one libvips thread. Target: >= 50 images/s at
 * 1024 px. Then loading a rendered 2048 px set: what the per-record image check
 * costs next to a full decode. Target: load >= 500 records/s.
 * Run: npm run bench -- data  (or node --import tsx bench/data/index.ts [count])
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { ensureSyntheticDataset, loadDataset } from '../../src/data';
import { DEFAULT_GENERATE_OPTIONS, generateItem } from '../../src/data/synthetic/generate';
import { detectTextMode, renderScene } from '../../src/data/synthetic/render';

sharp.concurrency(1);
sharp.cache(false);

async function measure(size: number, count: number): Promise<{ size: number; perSecond: number; meanKiB: number; generateMs: number }> {
  const textMode = await detectTextMode();
  const opts = { ...DEFAULT_GENERATE_OPTIONS, size };
  // Warm-up: first-use costs of librsvg and fontconfig are not part of steady state.
  for (let i = 0; i < 3; i++) await renderScene(generateItem(99, 'train', i, opts).scene, textMode);
  let bytes = 0;
  let generate = 0;
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const g0 = performance.now();
    const { scene } = generateItem(1, 'train', i, opts);
    generate += performance.now() - g0;
    bytes += (await renderScene(scene, textMode)).length;
  }
  const seconds = (performance.now() - start) / 1000;
  return { size, perSecond: count / seconds, meanKiB: bytes / count / 1024, generateMs: generate / count };
}

const count = Number(process.argv[2] ?? 200);
console.log(
  `machine: ${os.cpus()[0]?.model ?? 'unknown cpu'}, ${os.cpus().length} cores; node ${process.version}; text mode ${await detectTextMode()}`,
);
for (const size of [448, 1024, 2048]) {
  const r = await measure(size, size > 1024 ? Math.max(10, count / 4) : count);
  console.log(
    `${String(r.size).padStart(5)} px  ${r.perSecond.toFixed(1).padStart(6)} images/s  ${r.meanKiB.toFixed(0).padStart(5)} KiB/png  generate ${r.generateMs.toFixed(2)} ms/image`,
  );
}

/** Load speed of a rendered set, and the per-image cost of reading headers only versus decoding every pixel. */
async function measureLoad(count: number): Promise<void> {
  const dir = await mkdtemp(join(os.tmpdir(), 'ivgr-bench-load-'));
  try {
    await ensureSyntheticDataset(dir, { seed: 1, counts: { train: count, val: 0, test: 0 }, size: 2048, convention: 'qwen25-abs' });
    await loadDataset(dir);
    const start = performance.now();
    const d = await loadDataset(dir);
    const loadMs = performance.now() - start;
    const paths = d.records.map((r) => join(dir, r.image));
    const timeEach = async (fn: (p: string) => Promise<unknown>): Promise<number> => {
      const t = performance.now();
      for (const p of paths) await fn(p);
      return (performance.now() - t) / paths.length;
    };
    const header = await timeEach((p) => sharp(p).metadata());
    const decode = await timeEach((p) =>
      sharp(p, { failOn: 'truncated', sequentialRead: true }).resize(8, 8, { fit: 'fill' }).raw().toBuffer(),
    );
    console.log(
      `load ${d.records.length} records at 2048 px: ${((d.records.length / loadMs) * 1000).toFixed(0)} records/s (${(loadMs / d.records.length).toFixed(2)} ms each, header + end check); header alone ${header.toFixed(2)} ms/image, full decode ${decode.toFixed(1)} ms/image`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await measureLoad(Math.max(20, count / 2));
