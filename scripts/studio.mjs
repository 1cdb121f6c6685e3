// `npm run studio`: VS Code in the browser (code-server) with iVGR Studio installed from the current
// tree and a run open in its panel, for a remote GPU box reached through a browser. A workspace
// without runs gets one: configs/studio.yaml (the shipped pretrained tiny model), started detached with
// `ivgr train --detach`, so it trains while the panel is watched. The panel opens through
// IVGR_OPEN_RUN, which the extension honours on activation. Serves on 127.0.0.1 only, without a
// password, so reach it through an SSH tunnel; prints the URL and serves until interrupted, then
// stops code-server and the run it started.
//
//   npm run studio [-- --port 8080] [--folder <workspace>] [--state-dir <dir>]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { codeServerEntry, installExtension, startCodeServer } from './code-server.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'cli.js');
const USAGE =
  'usage: npm run studio [-- --port <port>] [--folder <workspace folder>] [--state-dir <folder for code-server user data and extensions>]';

function usage(message) {
  console.error(`studio: ${message}\n${USAGE}`);
  process.exit(2);
}

function fail(message) {
  console.error(`studio: ${message}`);
  process.exit(1);
}

let values;
try {
  ({ values } = parseArgs({ options: { port: { type: 'string' }, folder: { type: 'string' }, 'state-dir': { type: 'string' } } }));
} catch (e) {
  usage(e instanceof Error ? e.message : String(e));
}
const portText = values.port ?? process.env.PORT ?? '8080';
const port = Number(portText);
if (!Number.isInteger(port) || port < 1 || port > 65535) usage(`--port must be a TCP port (1-65535), got '${portText}'`);
// The project folder holds configs/ and runs/, where `npm run demo` leaves the demo run.
const folder = resolve(values.folder ?? root);
if (!existsSync(folder)) usage(`--folder ${folder} does not exist`);
const home = resolve(values['state-dir'] ?? join(root, '.ivgr', 'studio'));
// The extension's default `ivgr.runsFolder`, where its Runs view looks.
const runsDir = join(folder, 'runs');

if (!codeServerEntry())
  fail('code-server is not installed; run `node scripts/code-server.mjs install` first (it lists the Debian packages it needs)');

const userDataDir = join(home, 'user-data');
const extensionsDir = join(home, 'extensions');
const vsix = join(home, 'ivgr-studio.vsix');
mkdirSync(join(userDataDir, 'User'), { recursive: true });

// First start only: later edits made in the browser persist in the same file.
const settingsFile = join(userDataDir, 'User', 'settings.json');
if (!existsSync(settingsFile)) {
  const venvPython = join(root, '.venv', 'bin', 'python');
  const settings = {
    'workbench.startupEditor': 'none',
    'telemetry.telemetryLevel': 'off',
    ...(process.env.IVGR_PYTHON
      ? { 'ivgr.python.path': process.env.IVGR_PYTHON }
      : existsSync(venvPython)
        ? { 'ivgr.python.path': venvPython }
        : {}),
  };
  writeFileSync(settingsFile, JSON.stringify(settings, null, 2) + '\n');
}

console.log('studio: packaging the extension from this tree');
const pack = spawnSync(process.execPath, [join(root, 'scripts', 'package-vsix.mjs'), '--out', vsix], { cwd: root, stdio: 'inherit' });
if (pack.status !== 0) process.exit(1);
installExtension({ vsix, extensionsDir, userDataDir });

/** Runs the project's `ivgr` command line (built by the packaging step) and returns its stdout. */
function ivgr(args) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: folder, encoding: 'utf8' });
  if (r.status !== 0) fail(`'ivgr ${args.join(' ')}' failed (exit ${r.status ?? r.signal}):\n${r.stderr.trim()}`);
  return r.stdout.trim();
}

const runs = JSON.parse(ivgr(['runs', '--runs-dir', runsDir, '--json']));
let runDir;
let startedRun = false;
if (runs.length > 0) {
  runDir = runs[0].dir;
  console.log(`studio: opening the latest run ${runDir} (${runs[0].status})`);
} else {
  runDir = ivgr(['train', join(root, 'configs', 'studio.yaml'), '--detach', '--runs-dir', runsDir])
    .split('\n')
    .pop();
  startedRun = true;
  console.log(`studio: no run in ${runsDir}; started ${runDir} with the shipped pretrained tiny model (output in worker.log)`);
}

/** Stops the worker of the run this script started; a run that was already there is left alone. */
function stopStartedRun() {
  if (!startedRun) return;
  try {
    const { pid, status } = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8'));
    if (typeof pid === 'number' && pid > 0 && ['created', 'running', 'paused'].includes(status)) process.kill(pid, 'SIGTERM');
  } catch {
    // the worker has already exited
  }
}

let server;
try {
  server = await startCodeServer({ folder, userDataDir, extensionsDir, port, env: { IVGR_OPEN_RUN: runDir } });
} catch (e) {
  stopStartedRun();
  fail(e instanceof Error ? e.message : String(e));
}
console.log(`\niVGR Studio is serving ${folder} with ${runDir} open\n\n  ${server.url}\n`);
console.log(`From another machine: ssh -N -L ${port}:127.0.0.1:${port} <this host>, then open the URL above.`);
console.log(`Ctrl+C stops it${startedRun ? ' and the run it started (Resume in the Runs view restarts that)' : ''}.`);

let stopping = false;
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  stopStartedRun();
  await server.stop();
  process.exit(0);
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
server.child.once('exit', (code, signal) => {
  if (stopping) return;
  stopStartedRun();
  console.error(`studio: code-server exited (${code ?? signal}); its last output:\n${server.output().slice(-4000)}`);
  process.exit(1);
});
