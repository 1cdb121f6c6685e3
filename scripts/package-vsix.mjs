// Builds ivgr-studio-<version>.vsix: a production bundle plus the native runtime packages the bundles
// keep external (sharp, onnxruntime-node and their platform binaries). vsce's --no-dependencies mode
// never collects the project's node_modules/, so those packages are copied into dist/node_modules/
// (less their TypeScript files, source maps and test folders) for the duration of packaging, where
// Node's resolution finds them from dist/extension.js and dist/cli.js.
//
//   node scripts/package-vsix.mjs [--out <file.vsix>]
import { spawnSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const { values } = parseArgs({ options: { out: { type: 'string' } } });
const out = resolve(values.out ?? join(root, `${manifest.name}-${manifest.version}.vsix`));
const vendorDir = join(root, 'dist', 'node_modules');

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`package: '${cmd} ${args.join(' ')}' failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
}

/** Bare module names the node bundles still require at run time (esbuild externals), minus builtins and vscode. */
function externalRequires() {
  const builtins = new Set(builtinModules);
  const names = new Set();
  for (const f of ['extension.js', 'cli.js']) {
    const file = join(root, 'dist', f);
    if (!existsSync(file)) continue;
    for (const m of readFileSync(file, 'utf8').matchAll(/require\(["']([^"'./][^"']*)["']\)/g)) {
      const spec = m[1];
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
      if (name !== 'vscode' && !name.startsWith('node:') && !builtins.has(name)) names.add(name);
    }
  }
  return [...names];
}

/** The installed packages `names` need at run time: each with its dependencies and installed optional ones. */
function runtimeClosure(names) {
  const found = new Map();
  const visit = (name, fromDir) => {
    // Node's lookup order: a copy nested under the requiring package wins over the hoisted one.
    const nested = join(fromDir, 'node_modules', name);
    const dir = existsSync(nested) ? nested : join(root, 'node_modules', name);
    if (!existsSync(join(dir, 'package.json'))) return false;
    if (found.has(dir)) return true;
    found.set(dir, name);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    for (const dep of Object.keys(pkg.dependencies ?? {})) {
      if (!visit(dep, dir)) throw new Error(`package: ${name} depends on ${dep}, which is not installed (run npm ci)`);
    }
    // Optional dependencies are the per-platform binaries; only this machine's are installed.
    for (const dep of Object.keys(pkg.optionalDependencies ?? {})) visit(dep, dir);
    return true;
  };
  for (const name of names) {
    if (!visit(name, root)) throw new Error(`package: the bundles require '${name}', which is not in node_modules (run npm ci)`);
  }
  // Packages nested inside another package's folder travel with it.
  return [...found].filter(([dir]) => dirname(dir) === join(root, 'node_modules') || dirname(dirname(dir)) === join(root, 'node_modules'));
}

/**
 * onnxruntime-node ships every platform's binaries (bin/napi-vN/<platform>/<arch>); the vsix is
 * built for this platform, so the others (about 240 MB) are not copied at all.
 */
function otherPlatformBinary(src) {
  const parts = relative(join(root, 'node_modules', 'onnxruntime-node', 'bin'), src).split(sep);
  if (parts[0] === '..' || parts.length < 2) return false;
  return parts[1] !== process.platform || (parts.length > 2 && parts[2] !== process.arch);
}

/** Folders of test code, which vendored packages sometimes publish. */
const TEST_DIRS = new Set(['test', 'tests', '__tests__']);

/** cpSync filter: leaves out what no runtime loads, TypeScript sources and declarations, source maps and test folders. */
function shipped(src) {
  const name = basename(src);
  if (/\.(ts|mts|cts|map)$/.test(name) || otherPlatformBinary(src)) return false;
  return !(TEST_DIRS.has(name) && statSync(src).isDirectory());
}

function sizeOf(path) {
  const s = statSync(path);
  if (!s.isDirectory()) return s.size;
  return readdirSync(path).reduce((sum, e) => sum + sizeOf(join(path, e)), 0);
}

run(process.execPath, ['esbuild.mjs', '--production']);
// Source maps of earlier development builds would otherwise ship with the minified bundles.
for (const f of readdirSync(join(root, 'dist'))) if (f.endsWith('.map')) rmSync(join(root, 'dist', f));

rmSync(vendorDir, { recursive: true, force: true });
try {
  const externals = externalRequires();
  for (const [dir, name] of runtimeClosure(externals)) {
    cpSync(dir, join(vendorDir, name), { recursive: true, dereference: true, filter: shipped });
  }
  if (externals.length > 0) {
    console.log(
      `package: runtime packages in dist/node_modules: ${readdirSync(vendorDir).join(', ')} (${(sizeOf(vendorDir) / 1e6).toFixed(1)} MB)`,
    );
  }
  const target = `${process.platform}-${process.arch}`;
  run(process.execPath, [
    join(root, 'node_modules', '@vscode', 'vsce', 'vsce'),
    'package',
    '--no-dependencies',
    // The vendored natives are this platform's; other platforms get their own vsix.
    ...(externals.length > 0 ? ['--target', target] : []),
    '--skip-license',
    '--allow-missing-repository',
    // README links point at docs/ shipped inside the vsix, so they resolve where VS Code renders it.
    '--no-rewrite-relative-links',
    '--out',
    out,
  ]);
} finally {
  rmSync(vendorDir, { recursive: true, force: true });
}
console.log(`package: ${out} ${(statSync(out).size / 1e6).toFixed(2)} MB`);
