/** The export's manifest.json (written by the PyTorch engine's export_onnx), read and checked. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { describeIssue } from '../../core/protocol/engine';
import { COORD_CONVENTIONS } from '../../core/types';

const posInt = z.number().int().positive();
const tokenId = z.number().int().nonnegative();
const graph = z.object({ file: z.string().min(1), inputs: z.array(z.string()), outputs: z.array(z.string()) });

export const MANIFEST_FORMAT = 1;

export const manifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  architecture: z.string(),
  modelType: z.string(),
  parameters: z.number().int().nonnegative(),
  dtype: z.literal('float32'),
  opset: posInt,
  coordConvention: z.enum(COORD_CONVENTIONS),
  /** What the export was made from (a digest of the checkpoint's weights), or null. */
  source: z.string().nullable(),
  files: z.array(z.string()).min(1),
  image: z.object({
    side: z.number().int().nonnegative(),
    patchSize: posInt,
    temporalPatchSize: posInt,
    mergeSize: posInt,
    channels: z.literal(3),
    minPixels: posInt,
    maxPixels: posInt,
    rescaleFactor: z.number().positive(),
    mean: z.array(z.number()).length(3),
    std: z.array(z.number().positive()).length(3),
  }),
  text: z.object({
    hiddenSize: posInt,
    layers: posInt,
    heads: posInt,
    kvHeads: posInt,
    headDim: posInt,
    vocabSize: posInt,
    mropeSection: z.array(z.number().int().nonnegative()).length(3),
  }),
  tokens: z.object({
    special: z.record(z.string(), tokenId.nullable()),
    pad: tokenId,
    eos: z.array(tokenId).min(1),
    suppress: z.array(tokenId),
    image: tokenId,
  }),
  chat: z.object({ defaultSystem: z.string() }),
  graphs: z.object({ vision: graph, embed: graph, decoder: graph }),
});

export type OrtManifest = z.infer<typeof manifestSchema>;

/** Reads `<dir>/manifest.json`; a missing file or field is an error naming it. */
export function readManifest(dir: string): OrtManifest {
  const file = join(dir, 'manifest.json');
  if (!existsSync(file))
    throw new Error(
      `${file} not found: ${dir} is not an ONNX export (run export_onnx, e.g. 'ivgr eval --engine ort' exports the checkpoint first)`,
    );
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success)
    throw new Error(`${file}: ${describeIssue(parsed.error)} (export format ${MANIFEST_FORMAT} expected; export the checkpoint again)`);
  for (const f of parsed.data.files) {
    if (!existsSync(join(dir, f))) throw new Error(`${file} lists ${f}, which is missing from ${dir}; export the checkpoint again`);
  }
  return parsed.data;
}
