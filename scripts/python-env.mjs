// Where the engine's Python lives: $IVGR_PYTHON, else the repo's .venv, else python3 on PATH.
// (The same rule as src/engine/torch/python-env.ts, for scripts that run before any build.)
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const venvPython = process.platform === 'win32' ? join('.venv', 'Scripts', 'python.exe') : join('.venv', 'bin', 'python');

export function pythonPath() {
  if (process.env.IVGR_PYTHON) return process.env.IVGR_PYTHON;
  const venv = join(process.cwd(), venvPython);
  return existsSync(venv) ? venv : process.platform === 'win32' ? 'python' : 'python3';
}
