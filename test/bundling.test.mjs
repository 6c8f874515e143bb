// Bundlers: small consumers (CommonJS and ESM) bundled with esbuild's JS API and webpack's Node
// API into a temp folder, then run in child processes. The temp folder is a consumer project:
// its node_modules/background-thread links to this repository, as an install would put it.
// - background-thread marked external: a function target and a module target run and join (the
//   module target's module imports the package too, and sees its thread: one copy of it);
// - bundled in: the package cannot find its files, and says so: ERR_BUNDLED, naming the fix;
//   with its addon copied where node-gyp-build looks, function targets run and a module target's
//   start() throws ERR_BUNDLED (the runner is missing).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, assertNoCrash, describe, runNode } from './helpers/child.mjs';

const require = createRequire(import.meta.url);
const esbuild = require('esbuild');
const webpack = require('webpack');

const work = mkdtempSync(join(tmpdir(), 'background-thread-bundling-'));
mkdirSync(join(work, 'node_modules'));
symlinkSync(ROOT, join(work, 'node_modules', 'background-thread'), 'dir');

// The module target: not bundled (a Worker imports it by path), next to each bundle.
const WORK_MODULE = `import { currentThread } from 'background-thread';
export function square(x) { return { value: x * x, thread: currentThread().name }; }
`;
// What both consumers do with the API: one function target, then one module target (its path is
// argv[2]); prints one JSON line.
const MAIN = `
async function main({ BackgroundThread }) {
  const fn = new BackgroundThread({ target: (x) => x + 1, args: [1], name: 'fn' });
  fn.start();
  const out = { fn: [await fn.join(), fn.result] };
  const mod = new BackgroundThread({ target: { module: process.argv[2], export: 'square' }, args: [7], name: 'mod' });
  try {
    mod.start();
  } catch (error) {
    out.startError = { code: error.code, name: error.name, message: error.message };
    console.log(JSON.stringify(out));
    return;
  }
  out.mod = [await mod.join(), mod.result];
  console.log(JSON.stringify(out));
}
`;
// CommonJS catches the package's load error; ESM's static import cannot (uncaught: stderr).
writeFileSync(join(work, 'consumer.cjs'), `let api;
try {
  api = require('background-thread');
} catch (error) {
  console.log(JSON.stringify({ loadError: { code: error.code, name: error.name, message: error.message } }));
  process.exit(1);
}
${MAIN}
main(api);
`);
writeFileSync(join(work, 'consumer.mjs'), `import { BackgroundThread } from 'background-thread';
${MAIN}
main({ BackgroundThread });
`);

const RAN = { fn: [true, 2], mod: [true, { value: 49, thread: 'mod' }] };
const FIX = /Mark background-thread as external \(esbuild: --external:background-thread; webpack: externals: /;
// esbuild's ESM output has no require(): the createRequire banner the README gives for CommonJS
// code.
const REQUIRE_BANNER = "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

let count = 0;
/** A fresh folder `<work>/<n>/app` holding the module target; returns its path. */
function appFolder() {
  const app = join(work, String(++count), 'app');
  mkdirSync(app, { recursive: true });
  writeFileSync(join(app, 'work.mjs'), WORK_MODULE);
  return app;
}

async function withEsbuild(consumer, { format, external, banner }) {
  const app = appFolder();
  const outfile = join(app, format === 'esm' ? 'bundle.mjs' : 'bundle.cjs');
  await esbuild.build({
    entryPoints: [join(work, consumer)], bundle: true, platform: 'node', format, outfile, logLevel: 'silent',
    external: external ? ['background-thread'] : [], ...(banner && { banner: { js: banner } }),
  });
  return { app, bundle: outfile };
}

async function withWebpack(consumer, { module, external }) {
  const app = appFolder();
  const filename = module ? 'bundle.mjs' : 'bundle.cjs';
  const stats = await new Promise((resolve, reject) => {
    webpack({
      mode: 'production', target: 'node', context: work, entry: join(work, consumer),
      optimization: { minimize: false },
      output: module ? { path: app, filename, module: true, chunkFormat: 'module' } : { path: app, filename },
      experiments: module ? { outputModule: true } : {},
      externals: external ? { 'background-thread': module ? 'module background-thread' : 'commonjs background-thread' } : {},
    }, (error, result) => (error ? reject(error) : resolve(result)));
  });
  assert.not.ok(stats.hasErrors(), stats.toString({ all: false, errors: true }));
  return { app, bundle: join(app, filename) };
}

// PREBUILDS_ONLY cleared: the copied addon of the last test is a build/Release one.
// The package's own way to its addon, never the sanitizer runs' BACKGROUND_THREAD_ADDON override
// (which a bundle would follow, finding the addon where a user's bundle would not).
const run = ({ app, bundle }) => runNode([bundle, join(app, 'work.mjs')], { env: { PREBUILDS_ONLY: '', BACKGROUND_THREAD_ADDON: '' } });

function assertRan(result) {
  assertNoCrash(result);
  assert.is(result.code, 0, describe(result));
  assert.equal(JSON.parse(result.stdout), RAN, describe(result));
}

/** A CommonJS consumer caught ERR_BUNDLED from require(). */
function assertCaughtBundled(result) {
  assertNoCrash(result);
  assert.is(result.code, 1, describe(result));
  const { loadError } = JSON.parse(result.stdout);
  assert.is(loadError.code, 'ERR_BUNDLED', describe(result));
  assert.is(loadError.name, 'BackgroundThreadError', describe(result));
  assert.match(loadError.message, FIX);
}

/** An ESM consumer died of ERR_BUNDLED at its import: Node printed the uncaught error. */
function assertUncaughtBundled(result) {
  assertNoCrash(result);
  assert.is(result.code, 1, describe(result));
  assert.is(result.stdout, '', describe(result));
  assert.match(result.stderr, /code: 'ERR_BUNDLED'/, describe(result));
  assert.match(result.stderr, FIX, describe(result));
  assert.not.match(result.stderr, /^Error: Dynamic require of/m, describe(result));  // only as the cause
}

test.after(() => rmSync(work, { recursive: true, force: true }));

// --- marked external: Node loads the package from node_modules -----------------------------------

test('esbuild, external: CommonJS to cjs, ESM to esm, ESM to cjs', async () => {
  assertRan(await run(await withEsbuild('consumer.cjs', { format: 'cjs', external: true })));
  assertRan(await run(await withEsbuild('consumer.mjs', { format: 'esm', external: true })));
  assertRan(await run(await withEsbuild('consumer.mjs', { format: 'cjs', external: true })));
});

test('esbuild, external: CommonJS to esm fails in esbuild\'s require() stub, and runs with the createRequire banner', async () => {
  // esbuild's limit, not the package's: documented, with the banner as the fix.
  const bare = await run(await withEsbuild('consumer.cjs', { format: 'esm', external: true }));
  assert.match(JSON.parse(bare.stdout).loadError.message, /^Dynamic require of "background-thread" is not supported/, describe(bare));
  assertRan(await run(await withEsbuild('consumer.cjs', { format: 'esm', external: true, banner: REQUIRE_BANNER })));
});

test('webpack, external: CommonJS and ESM to commonjs output, ESM to module output', async () => {
  assertRan(await run(await withWebpack('consumer.cjs', { module: false, external: true })));
  assertRan(await run(await withWebpack('consumer.mjs', { module: false, external: true })));
  assertRan(await run(await withWebpack('consumer.mjs', { module: true, external: true })));
});

// --- bundled in: ERR_BUNDLED, naming the fix -----------------------------------------------------

test('esbuild, bundled in: ERR_BUNDLED at load (cjs: the addon is not found; esm: no require(), or no __dirname)', async () => {
  assertCaughtBundled(await run(await withEsbuild('consumer.cjs', { format: 'cjs', external: false })));
  const esm = await run(await withEsbuild('consumer.mjs', { format: 'esm', external: false }));
  assertUncaughtBundled(esm);
  assert.match(esm.stderr, /cannot find Node's built-in modules/, describe(esm));
  const banner = await run(await withEsbuild('consumer.cjs', { format: 'esm', external: false, banner: REQUIRE_BANNER }));
  assertCaughtBundled(banner);
  assert.match(JSON.parse(banner.stdout).loadError.message, /__dirname is not defined/);
});

test('webpack, bundled in: ERR_BUNDLED at load (commonjs and module output)', async () => {
  assertCaughtBundled(await run(await withWebpack('consumer.cjs', { module: false, external: false })));
  assertUncaughtBundled(await run(await withWebpack('consumer.mjs', { module: true, external: false })));
});

test('bundled in, the addon copied where node-gyp-build looks: function targets run; a module target\'s start() throws ERR_BUNDLED', async () => {
  const addon = require('node-gyp-build').resolve(ROOT);
  for (const built of [await withEsbuild('consumer.cjs', { format: 'cjs', external: false }),
    await withWebpack('consumer.cjs', { module: false, external: false })]) {
    // node-gyp-build looks two folders above the bundle's (the package folder, seen from
    // dist/core/).
    mkdirSync(join(built.app, '..', '..', 'build', 'Release'), { recursive: true });
    copyFileSync(addon, join(built.app, '..', '..', 'build', 'Release', 'background_thread.node'));
    const result = await run(built);
    assertNoCrash(result);
    assert.is(result.code, 0, describe(result));
    const out = JSON.parse(result.stdout);
    assert.equal(out.fn, RAN.fn, describe(result));
    assert.is(out.startError.code, 'ERR_BUNDLED', describe(result));
    assert.is(out.startError.name, 'BackgroundThreadError', describe(result));
    assert.match(out.startError.message, /cannot find its module-target runner \(.*runner\.js\)/);
    assert.match(out.startError.message, FIX);
  }
});

test.run();
