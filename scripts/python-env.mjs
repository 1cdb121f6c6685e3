// Where the engine's Python lives: $IVGR_PYTHON, else the repo's .venv.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export function pythonPath() {
  if (process.env.IVGR_PYTHON) return process.env.IVGR_PYTHON;
  const venv = join(process.cwd(), '.venv', 'bin', 'python');
  return existsSync(venv) ? venv : 'python3';
}
