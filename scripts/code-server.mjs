// The one recipe for code-server (VS Code in a browser), used by CI, the e2e suite and `npm run studio`.
//
//   node scripts/code-server.mjs install   installs code-server into .ivgr/code-server/ (idempotent)
//   node scripts/code-server.mjs path      prints the code-server entry script, or fails if not installed
//
// It installs from the npm registry only: code-server's native modules build against Debian's
// headers, and the one post-install that downloads a binary from GitHub (@vscode/ripgrep) is served
// from its own download cache, which we fill with a tarball of Debian's `rg`.
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** code-server 4.100 is the last line that runs on Node 20 (newer releases need Node 22). */
export const CODE_SERVER_VERSION = '4.100.3';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const installDir = join(repoRoot, '.ivgr', 'code-server');
const packageDir = join(installDir, 'node_modules', 'code-server');
const entry = join(packageDir, 'out', 'node', 'entry.js');
const stamp = join(installDir, '.installed');

/** Debian packages for the native modules (kerberos, @vscode/spdlog, native-keymap, node-pty) and ripgrep. */
export const DEBIAN_PACKAGES = ['libkrb5-dev', 'libx11-dev', 'libxkbfile-dev', 'libsecret-1-dev', 'pkg-config', 'ripgrep'];
const PKG_CONFIG_MODULES = { 'krb5-gssapi': 'libkrb5-dev', x11: 'libx11-dev', xkbfile: 'libxkbfile-dev', 'libsecret-1': 'libsecret-1-dev' };

/** Path of code-server's entry script when a complete install of CODE_SERVER_VERSION is present, else null. */
export function codeServerEntry() {
  if (!existsSync(entry) || !existsSync(stamp)) return null;
  return readFileSync(stamp, 'utf8').trim() === CODE_SERVER_VERSION ? entry : null;
}

function fail(message) {
  throw new Error(`code-server install: ${message}`);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.error) fail(`'${cmd} ${args.join(' ')}' could not start: ${r.error.message}`);
  if (r.status !== 0) fail(`'${cmd} ${args.join(' ')}' failed (exit ${r.status ?? r.signal}) in ${opts.cwd ?? process.cwd()}`);
}

function capture(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.error) fail(`'${cmd} ${args.join(' ')}' could not start: ${r.error.message}`);
  if (r.status !== 0) fail(`'${cmd} ${args.join(' ')}' failed (exit ${r.status ?? r.signal}): ${r.stderr.trim()}`);
  return r.stdout.trim();
}

function which(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim() || null;
}

function checkPrerequisites() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major !== 20) fail(`code-server ${CODE_SERVER_VERSION} needs Node 20, this is Node ${process.versions.node}`);
  const missing = [];
  if (!which('rg')) missing.push('ripgrep');
  if (!which('pkg-config')) missing.push('pkg-config');
  else {
    for (const [mod, pkg] of Object.entries(PKG_CONFIG_MODULES)) {
      if (spawnSync('pkg-config', ['--exists', mod]).status !== 0) missing.push(pkg);
    }
  }
  if (missing.length > 0) fail(`missing Debian packages: ${missing.join(' ')} (apt-get install -y ${DEBIAN_PACKAGES.join(' ')})`);
}

/** The npm environment code-server's post-install needs when run as root and offline from GitHub. */
function npmEnv() {
  return {
    ...process.env,
    // code-server's postinstall refuses to run as root without it.
    npm_config_unsafe_perm: 'true',
    // node-pty's post-install calls npx, which would otherwise wait for a prompt.
    npm_config_yes: 'true',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
  };
}

/** @vscode/ripgrep versions code-server's own lockfiles pin (read from the package tarball). */
function pinnedRipgrepVersions(tarball) {
  const files = ['package/lib/vscode/npm-shrinkwrap.json', 'package/lib/vscode/extensions/npm-shrinkwrap.json'];
  const out = mkdtempSync(join(tmpdir(), 'ivgr-cs-shrinkwrap-'));
  try {
    run('tar', ['xzf', tarball, '-C', out, ...files]);
    const versions = new Set();
    for (const f of files) {
      const lock = JSON.parse(readFileSync(join(out, f), 'utf8'));
      for (const [path, info] of Object.entries(lock.packages ?? {})) {
        if (path.endsWith('node_modules/@vscode/ripgrep')) versions.add(info.version);
      }
    }
    return [...versions];
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** Places Debian's rg where @vscode/ripgrep's post-install looks for its cached download (lib/download.js). */
function seedRipgrepCache(ripgrepVersion, workDir) {
  const tarball = join(
    workDir,
    capture('npm', ['pack', `@vscode/ripgrep@${ripgrepVersion}`, '--silent', '--pack-destination', workDir], { env: npmEnv() })
      .split('\n')
      .pop(),
  );
  const src = mkdtempSync(join(workDir, 'rg-'));
  run('tar', ['xzf', tarball, '-C', src, 'package/lib/postinstall.js']);
  const postinstall = readFileSync(join(src, 'package', 'lib', 'postinstall.js'), 'utf8');
  const release = /const VERSION = '([^']+)'/.exec(postinstall)?.[1];
  if (!release) fail(`@vscode/ripgrep@${ripgrepVersion}: no "const VERSION = '...'" in lib/postinstall.js; the cache layout changed`);
  const target = { x64: 'x86_64-unknown-linux-musl', arm64: 'aarch64-unknown-linux-musl' }[process.arch];
  if (process.platform !== 'linux' || !target)
    fail(`the offline ripgrep recipe covers Linux x64/arm64 only, not ${process.platform}-${process.arch}`);
  const cacheDir = join(tmpdir(), `vscode-ripgrep-cache-${ripgrepVersion}`);
  const asset = join(cacheDir, `ripgrep-${release}-${target}.tar.gz`);
  mkdirSync(cacheDir, { recursive: true });
  const rg = which('rg');
  // The post-install untars the asset into its bin/ folder and expects `rg` at the archive root.
  run('tar', ['czf', asset, '-C', dirname(rg), 'rg']);
  console.log(`code-server install: ripgrep ${release} for @vscode/ripgrep@${ripgrepVersion} served from ${rg}`);
}

/** Installs code-server CODE_SERVER_VERSION into .ivgr/code-server/ unless already there; returns its entry script. */
export function installCodeServer() {
  const existing = codeServerEntry();
  if (existing) return existing;
  checkPrerequisites();
  mkdirSync(installDir, { recursive: true });
  rmSync(stamp, { force: true });
  writeFileSync(
    join(installDir, 'package.json'),
    JSON.stringify(
      {
        name: 'ivgr-code-server',
        private: true,
        description: 'code-server for iVGR Studio (installed by scripts/code-server.mjs)',
        dependencies: { 'code-server': CODE_SERVER_VERSION },
      },
      null,
      2,
    ) + '\n',
  );
  const work = mkdtempSync(join(tmpdir(), 'ivgr-cs-'));
  try {
    const started = Date.now();
    const tarball = join(
      work,
      capture('npm', ['pack', `code-server@${CODE_SERVER_VERSION}`, '--silent', '--pack-destination', work], { env: npmEnv() })
        .split('\n')
        .pop(),
    );
    const versions = pinnedRipgrepVersions(tarball);
    if (versions.length === 0) fail(`code-server@${CODE_SERVER_VERSION} pins no @vscode/ripgrep; the recipe needs review`);
    for (const v of versions) seedRipgrepCache(v, work);
    run('npm', ['install', '--no-package-lock', '--omit=dev'], { cwd: installDir, env: npmEnv() });
    if (!existsSync(entry)) fail(`npm install finished but ${entry} is missing`);
    writeFileSync(stamp, CODE_SERVER_VERSION + '\n');
    console.log(`code-server install: code-server ${CODE_SERVER_VERSION} installed in ${Math.round((Date.now() - started) / 1000)} s`);
    return entry;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

/** Installs a .vsix into an extensions folder with code-server's own CLI. */
export function installExtension({ vsix, extensionsDir, userDataDir }) {
  const cs = codeServerEntry() ?? fail('code-server is not installed; run `node scripts/code-server.mjs install`');
  run(process.execPath, [cs, '--extensions-dir', extensionsDir, '--user-data-dir', userDataDir, '--install-extension', vsix, '--force']);
}

/**
 * Starts code-server on 127.0.0.1 with no auth and waits until it listens.
 * Resolves to { url, child, stop } where url opens `folder` in the browser.
 */
export async function startCodeServer({ folder, userDataDir, extensionsDir, port, env = {}, log = () => {} }) {
  const cs = codeServerEntry() ?? fail('code-server is not installed; run `node scripts/code-server.mjs install`');
  const p = port ?? (await freePort());
  const args = [
    cs,
    '--auth',
    'none',
    '--bind-addr',
    `127.0.0.1:${p}`,
    '--user-data-dir',
    userDataDir,
    '--extensions-dir',
    extensionsDir,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    folder,
  ];
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  const onData = (chunk) => {
    const text = chunk.toString();
    output += text;
    log(text);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  await new Promise((resolveStart, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`code-server did not listen on 127.0.0.1:${p} within 60 s; output:\n${output}`)),
      60_000,
    );
    const check = () => {
      if (/HTTP server listening on/.test(output)) {
        clearTimeout(timer);
        resolveStart();
      }
    };
    child.stdout.on('data', check);
    child.stderr.on('data', check);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`code-server exited (${code ?? signal}) before listening; output:\n${output}`));
    });
  });
  const url = `http://127.0.0.1:${p}/?folder=${encodeURIComponent(folder)}`;
  const stop = () =>
    new Promise((resolveStop) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolveStop();
      child.once('exit', () => resolveStop());
      // code-server spawns extension hosts and pty hosts in its process group.
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        child.kill('SIGTERM');
      }
    });
  return { url, port: p, child, stop, output: () => output };
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const [cmd] = process.argv.slice(2);
  try {
    if (cmd === 'install') console.log(installCodeServer());
    else if (cmd === 'path') console.log(codeServerEntry() ?? fail('not installed; run `node scripts/code-server.mjs install`'));
    else {
      console.error('usage: node scripts/code-server.mjs install|path');
      process.exit(2);
    }
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  }
}
