/**
 * The Import Rollout Dump questions, as `ivgr import` takes them: a dump file or a verl
 * rollout_data_dir, whether to follow it while the trainer writes, an optional dataset whose
 * images are joined, and how the model wrote its box coordinates. No vscode: the file dialogs come in as `choose`, so it is tested with fakes.
 */
import { COORD_CONVENTIONS, type CoordConvention } from '../core/types';
import type { Prompter } from './wizards';

export type ImportPathKind = 'file' | 'folder' | 'dataset';

export interface ImportRequest {
  source: string;
  follow: boolean;
  images?: string;
  convention: CoordConvention;
}

const CONVENTION_LABELS: Record<CoordConvention, string> = {
  'qwen2-1000': 'Qwen2-VL: 0–1000 grid',
  'qwen25-abs': 'Qwen2.5-VL: absolute pixels of the resized input',
  relative: 'Relative: 0–1 of the image',
  pixels: 'Pixels of the original image',
};

/** The conventions `ivgr import --convention` takes, the CLI's default first. */
const CONVENTION_ITEMS = COORD_CONVENTIONS.map((value, i) => ({
  label: CONVENTION_LABELS[value],
  description: i === 0 ? `${value}, the default` : value,
  value,
}));

/** Opens a file or folder dialog for `kind`; undefined when the user closes it. */
export type ChoosePath = (kind: ImportPathKind) => Promise<string | undefined>;

export async function importWizard(p: Prompter, choose: ChoosePath): Promise<ImportRequest | undefined> {
  const kind = await p.pick<'folder' | 'file'>('Import Rollout Dump', [
    { label: 'A verl rollout_data_dir', description: 'a folder with one {step}.jsonl per step, taken as one run', value: 'folder' },
    { label: 'A dump file', description: 'one verl or TRL JSONL file', value: 'file' },
  ]);
  if (!kind) return undefined;
  const source = await choose(kind);
  if (!source) return undefined;
  const follow = await p.pick<boolean>('Import Rollout Dump: while it trains?', [
    {
      label: 'Follow it',
      description: 'keep reading new steps while the trainer writes them; the run stays live until stopped',
      value: true,
    },
    { label: 'Import once', description: 'what is there now', value: false },
  ]);
  if (follow === undefined) return undefined;
  const join = await p.pick<boolean>('Import Rollout Dump: images', [
    { label: 'No images', value: false },
    {
      label: 'Join images from a dataset…',
      description: 'verl / EasyR1 parquet or JSONL with image paths; matched by id or question, so boxes are drawn',
      value: true,
    },
  ]);
  if (join === undefined) return undefined;
  const images = join ? await choose('dataset') : undefined;
  if (join && !images) return undefined;
  const convention = await p.pick<CoordConvention>('Import Rollout Dump: how the model wrote box coordinates', CONVENTION_ITEMS);
  if (!convention) return undefined;
  return { source, follow, ...(images ? { images } : {}), convention };
}

/** The `ivgr import` arguments after the dump and `--out`. */
export function importFlags(r: ImportRequest): string[] {
  return [...(r.follow ? ['--follow'] : []), ...(r.images ? ['--images', r.images] : []), '--convention', r.convention];
}
