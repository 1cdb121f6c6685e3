/**
 * Exporting a checkpoint for the ORT engine: the PyTorch engine loads the base model, restores
 * the checkpoint and writes it as ONNX next to it. The export is cached: it is redone only when
 * its manifest is missing or was made from other weights.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTorchEngine } from '../torch';

/** Where `export_onnx` writes the export of a checkpoint folder. */
export function onnxExportDir(checkpointDir: string): string {
  return join(checkpointDir, 'onnx');
}

/** Digest of a checkpoint's weight files (names and contents), recorded in the export's manifest. */
export async function checkpointDigest(checkpointDir: string): Promise<string> {
  const names = readdirSync(checkpointDir)
    .filter((n) => n.endsWith('.safetensors'))
    .sort();
  if (names.length === 0) throw new Error(`${checkpointDir}: no *.safetensors weights to export`);
  const h = createHash('sha256');
  for (const name of names) {
    h.update(`${name}\n`);
    for await (const chunk of createReadStream(join(checkpointDir, name))) h.update(chunk as Buffer);
  }
  return h.digest('hex');
}

function exportedFrom(dir: string): string | null {
  const file = join(dir, 'manifest.json');
  if (!existsSync(file)) return null;
  try {
    const m = JSON.parse(readFileSync(file, 'utf8')) as { source?: unknown; files?: unknown };
    if (typeof m.source !== 'string' || !Array.isArray(m.files)) return null;
    if (!m.files.every((f) => typeof f === 'string' && existsSync(join(dir, f)))) return null;
    return m.source;
  } catch {
    return null;
  }
}

/** True when the checkpoint's export folder holds a complete export of its current weights. */
export async function onnxExportCurrent(checkpointDir: string): Promise<boolean> {
  const source = exportedFrom(onnxExportDir(checkpointDir));
  return source !== null && source === (await checkpointDigest(checkpointDir));
}

/**
 * Runs the PyTorch engine's `export_onnx` for a checkpoint (the base `model` is loaded, the
 * checkpoint restored into it) and returns the export folder; skipped when the folder already
 * holds a complete export of the same weights.
 */
export async function exportCheckpointToOnnx(opts: {
  checkpointDir: string;
  model: string;
  python?: string;
  log?: (l: string) => void;
}): Promise<string> {
  const dir = onnxExportDir(opts.checkpointDir);
  const log = opts.log ?? (() => undefined);
  const source = await checkpointDigest(opts.checkpointDir);
  if (exportedFrom(dir) === source) {
    log(`onnx export of ${opts.checkpointDir} is up to date`);
    return dir;
  }
  const engine = createTorchEngine({ log, ...(opts.python ? { python: opts.python } : {}) });
  try {
    await engine.load({ model: opts.model, dtype: 'float32', device: 'cpu' });
    await engine.restore(opts.checkpointDir);
    const { files } = await engine.exportOnnx(dir, source);
    log(`onnx export of ${opts.checkpointDir}: ${files.length} files in ${dir}`);
  } finally {
    await engine.shutdown();
  }
  return dir;
}
