// `npm run studio`: VS Code in the browser (code-server) with iVGR Studio installed from the current
// tree, for a remote GPU box reached through a browser. Serves on 127.0.0.1 only, without a password,
// so reach it through an SSH tunnel; prints the URL and serves until interrupted.
//
//   npm run studio [-- --port 8080] [--folder <workspace>]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { installCodeServer, installExtension, startCodeServer } from './code-server.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const home = join(root, '.ivgr', 'studio');

function usage(message) {
  console.error(`studio: ${message}\nusage: npm run studio [-- --port <port>] [--folder <workspace folder>]`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({ options: { port: { type: 'string' }, folder: { type: 'string' } } }));
} catch (e) {
  usage(e instanceof Error ? e.message : String(e));
}
const portText = values.port ?? process.env.PORT ?? '8080';
const port = Number(portText);
if (!Number.isInteger(port) || port < 1 || port > 65535) usage(`--port must be a TCP port (1-65535), got '${portText}'`);
// The project folder holds configs/ and runs/, where `npm run demo` leaves the demo run.
const folder = resolve(values.folder ?? root);
if (!existsSync(folder)) usage(`--folder ${folder} does not exist`);

try {
  installCodeServer();
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
}

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
    ...(process.env.IVGR_PYTHON ? { 'ivgr.python.path': process.env.IVGR_PYTHON } : existsSync(venvPython) ? { 'ivgr.python.path': venvPython } : {}),
  };
  writeFileSync(settingsFile, JSON.stringify(settings, null, 2) + '\n');
}

console.log('studio: packaging the extension from this tree');
const pack = spawnSync(process.execPath, [join(root, 'scripts', 'package-vsix.mjs'), '--out', vsix], { cwd: root, stdio: 'inherit' });
if (pack.status !== 0) process.exit(1);
installExtension({ vsix, extensionsDir, userDataDir });

let server;
try {
  server = await startCodeServer({ folder, userDataDir, extensionsDir, port });
} catch (e) {
  console.error(`studio: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
console.log(`\niVGR Studio is serving ${folder}\n\n  ${server.url}\n`);
console.log(`From another machine: ssh -N -L ${port}:127.0.0.1:${port} <this host>, then open the URL above.`);
console.log('Ctrl+C stops it.');

let stopping = false;
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  await server.stop();
  process.exit(0);
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
server.child.once('exit', (code, signal) => {
  if (stopping) return;
  console.error(`studio: code-server exited (${code ?? signal}); its last output:\n${server.output().slice(-4000)}`);
  process.exit(1);
});
