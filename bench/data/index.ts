/**
 * Synthetic benchmark rendering speed: scene generation + SVG + sharp PNG
 * encode, one image at a time on one libvips thread. Target: >= 50 images/s at
 * 1024 px. Run: npm run bench -- data  (or node --import tsx bench/data/index.ts [count])
 */
import os from 'node:os';
import sharp from 'sharp';
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
console.log(`machine: ${os.cpus()[0]?.model ?? 'unknown cpu'}, ${os.cpus().length} cores; node ${process.version}; text mode ${await detectTextMode()}`);
for (const size of [448, 1024, 2048]) {
  const r = await measure(size, size > 1024 ? Math.max(10, count / 4) : count);
  console.log(`${String(r.size).padStart(5)} px  ${r.perSecond.toFixed(1).padStart(6)} images/s  ${r.meanKiB.toFixed(0).padStart(5)} KiB/png  generate ${r.generateMs.toFixed(2)} ms/image`);
}
