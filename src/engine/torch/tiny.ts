/**
 * The embedded default model: a tiny Qwen2.5-VL whose tokenizer is trained on the run's own
 * corpus (python/ivgr_engine/tiny.py). Built once per corpus: the folder is rebuilt only when
 * it is missing or was built from other lines.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { enginePackageDir, pythonPath } from './python-env';

const STAMP = 'ivgr-corpus.sha256';

/** Digest of the corpus as the builder sees it (one line per line, trailing newline). */
export function corpusDigest(lines: string[], seed: number): string {
  return createHash('sha256').update(`seed=${seed}\n`).update(lines.join('\n')).digest('hex');
}

/**
 * Builds the tiny model into `dir` from `corpusLines` unless `dir` already holds one built from
 * the same lines and seed. Returns true when it (re)built the folder.
 */
export async function ensureTinyModel(
  dir: string,
  corpusLines: string[],
  python?: string,
  opts: { seed?: number; log?: (line: string) => void } = {},
): Promise<boolean> {
  const seed = opts.seed ?? 0;
  const lines = corpusLines.map((l) => l.replace(/[\r\n]+/g, ' ')).filter((l) => l.trim().length > 0);
  if (lines.length === 0) throw new Error(`ensureTinyModel: the corpus for ${dir} has no non-empty lines`);
  const digest = corpusDigest(lines, seed);
  const stamp = join(dir, STAMP);
  if (existsSync(join(dir, 'model.safetensors')) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === digest) return false;

  // Build aside and rename, so an interrupted build never leaves a half folder that looks complete.
  const tmp = `${dir}.building-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const corpus = join(tmp, 'corpus.txt');
  writeFileSync(corpus, lines.join('\n') + '\n');
  await runBuilder(python ?? pythonPath(), ['-m', 'ivgr_engine.tiny', '--corpus', corpus, '--out', tmp, '--seed', String(seed)], opts.log);
  rmSync(corpus);
  writeFileSync(join(tmp, STAMP), digest + '\n');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dirname(dir), { recursive: true });
  renameSync(tmp, dir);
  return true;
}

function runBuilder(python: string, args: string[], log?: (line: string) => void): Promise<void> {
  const pkg = enginePackageDir();
  const inherited = process.env.PYTHONPATH;
  return new Promise((resolveRun, rejectRun) => {
    const child = spawn(python, args, {
      env: { ...process.env, PYTHONPATH: inherited ? `${pkg}${delimiter}${inherited}` : pkg },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const collect = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output = (output + text).slice(-4000);
      if (log) for (const line of text.split('\n')) if (line.trim()) log(line);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (err) =>
      rejectRun(new Error(`ensureTinyModel: cannot run ${python}: ${err.message}; run 'node scripts/setup-python.mjs' or set IVGR_PYTHON`)),
    );
    child.on('exit', (code, signal) => {
      if (code === 0) resolveRun();
      else
        rejectRun(
          new Error(`ensureTinyModel: '${python} ${args.slice(0, 2).join(' ')}' failed (${signal ?? `exit ${code}`}):\n${output.trim()}`),
        );
    });
  });
}
