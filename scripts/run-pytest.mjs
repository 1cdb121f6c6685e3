// Runs the Python engine's tests with the project's Python environment (see scripts/setup-python.mjs).
import { spawnSync } from 'node:child_process';
import { pythonPath } from './python-env.mjs';

const py = pythonPath();
const result = spawnSync(py, ['-m', 'pytest', '-q', 'python/tests', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(result.status ?? 1);
