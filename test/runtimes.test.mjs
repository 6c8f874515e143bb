// Bun and Deno load Node addons but lack libuv's thread functions (Bun panics on uv_cond_init;
// Deno cannot resolve uv_thread_create_ex and aborts): the package refuses them at import with a
// BackgroundThreadError (ERR_UNSUPPORTED_RUNTIME) the program can catch, through require() and
// import alike, before the addon is loaded. Real binaries of both, from their npm packages
// (@oven/bun-linux-x64, @deno/linux-x64-glibc), installed once into the Node-binaries cache. The
// worker's command too.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureForeignNode } from '../scripts/node-binaries.mjs';
import { ROOT, runNode } from './helpers/child.mjs';

const RUNTIMES = {
  bun: { pkg: '@oven/bun-linux-x64', version: '1.4.5', bin: 'bin/bun', args: [] },
  deno: { pkg: '@deno/linux-x64-glibc', version: '2.9.6', bin: 'deno', args: ['run', '-A'] },
};
const served = process.platform === 'linux' && process.arch === 'x64';

// A consumer project, as users have one: a package.json, and the package in its node_modules.
function consumer() {
  const dir = mkdtempSync(join(tmpdir(), 'bt-runtime-'));
  writeFileSync(join(dir, 'package.json'), '{ "name": "consumer", "private": true }\n');
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(ROOT, join(dir, 'node_modules', 'background-thread'), 'dir');
  return dir;
}

// Catches the import's error and prints what a program would switch on.
const report = 'console.log(JSON.stringify([error.name, error.code, error.message]))';
const cjs = `try { require('background-thread'); console.log('loaded'); } catch (error) { ${report}; }`;
const esm = `try { await import('background-thread'); console.log('loaded'); } catch (error) { ${report}; }`;

for (const [name, { pkg, version, bin, args }] of Object.entries(RUNTIMES)) {
  for (const [form, source, ext] of [['require()', cjs, 'cjs'], ['import', esm, 'mjs']]) {
    test(`${name}: ${form} throws ERR_UNSUPPORTED_RUNTIME, no crash`, async () => {
      if (!served && !process.env.CI) return;  // the npm packages used here are linux-x64 builds
      const runtime = ensureForeignNode(pkg, version, bin);
      const script = join(consumer(), `probe.${ext}`);
      writeFileSync(script, source);
      const { code, signal, stdout, stderr } = await runNode([...args, script],
        { node: runtime, timeout: 120000 });
      assert.is(signal, null, stderr);
      assert.is(code, 0, stderr);
      const [errorName, errorCode, message] = JSON.parse(stdout.trim().split('\n').pop());
      assert.is(errorName, 'BackgroundThreadError');
      assert.is(errorCode, 'ERR_UNSUPPORTED_RUNTIME');
      assert.match(message, new RegExp(`not on ${name === 'bun' ? 'Bun' : 'Deno'} ${version.replace(/\./g, '\\.')}`));
    });
  }

  // The worker's command loads the addon without the package's entry point: refused there too,
  // before it connects (under Bun it took jobs and failed each: its v8.deserialize is not Node's).
  test(`${name}: background-thread-worker refuses to start (exit 2, ERR_UNSUPPORTED_RUNTIME), takes no job`, async () => {
    if (!served && !process.env.CI) return;
    const runtime = ensureForeignNode(pkg, version, bin);
    const env = {   // a Redis that is not there: a worker that started would retry for ever
      BACKGROUND_THREAD_REMOTE: join(mkdtempSync(join(tmpdir(), 'bt-runtime-')), 'no-redis.sock'),
      BACKGROUND_THREAD_REMOTE_SECRET: 'a-secret-0123456789abcdef',
    };
    const { code, signal, stderr } = await runNode([...args, join(ROOT, 'dist/remote/cli.js'), '--allow', 'jobs/**'],
      { node: runtime, env, timeout: 120000 });
    assert.is(signal, null, stderr);
    assert.is(code, 2, stderr);   // as every refusal to start
    assert.match(stderr, /\(ERR_UNSUPPORTED_RUNTIME\)/);
    assert.match(stderr, new RegExp(`not on ${name === 'bun' ? 'Bun' : 'Deno'} `));
    assert.not.match(stderr, /ready on queue|ENOENT/, 'it never started a worker');
  });
}

test.run();
