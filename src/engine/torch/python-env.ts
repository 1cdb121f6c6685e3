/** Where the engine's Python and its package live. */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const MARKER = join('python', 'ivgr_engine', '__init__.py');

/**
 * The project root that holds `python/ivgr_engine`: $IVGR_ROOT, else the first ancestor of
 * this module (bundled or not), of the entry script or of the working directory that has it.
 */
export function projectRoot(): string {
  const starts = [
    process.env.IVGR_ROOT,
    typeof __dirname === 'string' ? __dirname : undefined,
    process.argv[1] ? dirname(resolve(process.argv[1])) : undefined,
    process.cwd(),
  ];
  for (const start of starts) {
    if (!start) continue;
    let dir = resolve(start);
    for (;;) {
      if (existsSync(join(dir, MARKER))) return dir;
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  throw new Error(`cannot find the engine package (${MARKER}) above ${process.cwd()}; set IVGR_ROOT to the iVGR Studio folder`);
}

/** The folder to put on PYTHONPATH for `python -m ivgr_engine`. */
export function enginePackageDir(): string {
  return join(projectRoot(), 'python');
}

/** $IVGR_PYTHON, else the project's `.venv` (see scripts/setup-python.mjs), else `python3` on PATH. */
export function pythonPath(): string {
  if (process.env.IVGR_PYTHON) return process.env.IVGR_PYTHON;
  const bin = process.platform === 'win32' ? join('.venv', 'Scripts', 'python.exe') : join('.venv', 'bin', 'python');
  for (const base of [safeRoot(), process.cwd()]) {
    if (base && existsSync(join(base, bin))) return join(base, bin);
  }
  return process.platform === 'win32' ? 'python' : 'python3';
}

function safeRoot(): string | undefined {
  try {
    return projectRoot();
  } catch {
    return undefined;
  }
}
