// The Windows smoke test's program, run by a Windows node.exe (under wine: scripts/smoke-win32.sh)
// from a consumer folder where node_modules/background-thread holds dist/, package.json and
// prebuilds/win32-x64 only (PREBUILDS_ONLY=1). One case per process, named by argv[2]; each
// prints its marker lines, and the driver checks them, stderr and the exit code. A failed
// assertion throws: exit 1.
//   load     the prebuild is the binary node-gyp-build picked, and it loads
//   threads  start, join (timeout and end), joinSync (poll, would-deadlock, end), result, names
//   module   a module target (a worker_threads isolate): joinSync really waits, result, nativeId
//   daemon   a daemon function thread (60 s timer) and a daemon module thread do not hold exit;
//            a non-daemon thread whose only timer is unref'd does, until it ends
//   throws   a thread's exception reaches the default excepthook (stderr); exit code stays 0
//   exit3    process.exit(3) with live function and module threads: exit code 3, at once
//   workers  Workers that alone loaded the addon end (terminate(), or by themselves) while their
//            threads are mid-call, so Node unloads it under them (FreeLibrary) unless it is
//            pinned (os_thread.cc, PinAddon); then this thread loads it and runs 20 threads
const assert = require('node:assert/strict');
const { once } = require('node:events');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const { Worker } = require('node:worker_threads');

// Loaded on first use, not here: the workers case must not load the addon in this thread first.
let bt;
const BackgroundThread = function (...args) { return new (bt ??= require('background-thread')).BackgroundThread(...args); };
const currentThread = () => (bt ??= require('background-thread')).currentThread();
const mainThread = () => (bt ??= require('background-thread')).mainThread();

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const MODULE = { module: pathToFileURL(path.join(__dirname, 'smoke-win32-module.mjs')).href, export: 'work' };
const cases = {
  load() {
    assert.equal(process.platform, 'win32');
    const pkg = path.dirname(require.resolve('background-thread/package.json'));
    const binary = require('node-gyp-build').path(pkg);
    assert.equal(path.relative(pkg, binary), path.join('prebuilds', 'win32-x64', 'background-thread.node'));
    console.log('LOADED', process.version, process.arch, path.basename(binary));
  },

  async threads() {
    let seen;
    const t = new BackgroundThread({
      name: 'smoke', args: [21],
      target: async (x) => { await sleep(300); seen = currentThread().name; return x * 2; },
    });
    t.start();
    assert.equal(t.isAlive(), true);
    assert.ok(Number.isInteger(t.nativeId) && t.nativeId > 0, `nativeId ${t.nativeId}`);
    assert.notEqual(t.nativeId, mainThread().nativeId, 'its own OS thread');
    assert.equal(await t.join(0.05), false, 'join(timeout) times out while the target sleeps');
    assert.equal(await t.join(30), true);
    assert.deepEqual([t.isAlive(), t.result, seen], [false, 42, 'smoke']);

    // joinSync on a function target: a poll before it ran, a refusal while it is pending (only
    // this loop can end it), a real wait once it has settled.
    let ran;
    const targetRan = new Promise((resolve) => { ran = resolve; });
    const u = new BackgroundThread({ target: () => { ran(); } });
    u.start();
    assert.equal(u.joinSync(0), false);
    assert.throws(() => u.joinSync(1), { code: 'ERR_JOIN_WOULD_DEADLOCK' });
    await targetRan;
    assert.equal(u.joinSync(10), true);
    assert.equal(u.isAlive(), false);
    console.log('THREADS OK nativeIds', t.nativeId, u.nativeId);  // equal when u reused t's parked OS thread
  },

  module() {
    const cells = new Int32Array(new SharedArrayBuffer(8));
    const t = new BackgroundThread({ name: 'iso', target: MODULE, args: [21, cells.buffer] });
    t.start();
    assert.equal(t.isAlive(), true);
    assert.equal(t.joinSync(60), true, 'joinSync waits for the module (the loop is blocked meanwhile)');
    assert.deepEqual([t.isAlive(), t.result, Atomics.load(cells, 0)], [false, 42, 1]);
    assert.ok(Number.isInteger(t.nativeId) && t.nativeId > 0, `nativeId ${t.nativeId}`);
    assert.notEqual(t.nativeId, mainThread().nativeId);
    console.log('MODULE OK');
  },

  async daemon() {
    const cells = new Int32Array(new SharedArrayBuffer(8));
    const sleeper = new BackgroundThread({ daemon: true, target: () => sleep(60_000) });
    const blocked = new BackgroundThread({ daemon: true, target: MODULE,
      args: [-1, cells.buffer] });
    let done = false;
    const holder = new BackgroundThread({ target: async () => {
      await new Promise((resolve) => setTimeout(resolve, 500).unref());
      done = true;
    } });
    for (const t of [sleeper, blocked, holder]) t.start();
    // The module runs (and blocks in Atomics.wait).
    while (Atomics.load(cells, 0) === 0) await sleep(5);
    process.on('exit', (code) => console.log('EXIT', code, done, sleeper.isAlive(), blocked.isAlive()));
    console.log('MAIN END', holder.isAlive());
  },

  throws() {
    process.on('exit', (code) => console.log('EXIT', code));
    new BackgroundThread({ name: 'Thrower', target: () => { throw new Error('smoke boom'); } }).start();
    console.log('MAIN END');
  },

  async exit3() {
    const cells = new Int32Array(new SharedArrayBuffer(8));
    const threads = [
      new BackgroundThread({ target: () => sleep(60_000) }),
      new BackgroundThread({ target: MODULE, args: [-1, cells.buffer] }),
    ];
    for (const t of threads) t.start();
    while (Atomics.load(cells, 0) === 0) await sleep(5);
    process.on('exit', (code) => console.log('EXIT', code, threads.map((t) => t.isAlive()).join()));
    process.exit(3);
  },

  async workers() {
    const pkg = JSON.stringify(require.resolve('background-thread'));
    const body = (selfEnding) => `
      const { parentPort } = require('node:worker_threads');
      const { BackgroundThread } = require(${pkg});
      for (let i = 0; i < 4; i++) {
        new BackgroundThread({ daemon: ${selfEnding} || i % 2 === 0, target: () => new Promise((r) => setTimeout(r, 60000)) }).start();
      }
      parentPort.postMessage('started');`;
    for (let i = 0; i < 10; i++) {
      const selfEnding = i % 2 === 1;  // ends with its daemon threads still waiting on their timers
      const w = new Worker(body(selfEnding), { eval: true });
      await once(w, 'message');
      if (selfEnding) await once(w, 'exit');
      else await w.terminate();
    }
    await sleep(200);
    assert.equal(bt, undefined, 'only the Workers had loaded the package');
    const threads = Array.from({ length: 20 },
      (_, i) => new BackgroundThread({ target: () => sleep(i % 5) }));
    for (const t of threads) t.start();
    assert.deepEqual(await Promise.all(threads.map((t) => t.join(30))), threads.map(() => true));
    console.log('WORKERS OK');
  },
};

const name = process.argv[2];
if (!cases[name]) {
  console.error(`usage: node smoke-win32.cjs ${Object.keys(cases).join('|')}`);
  process.exit(2);
}
Promise.resolve(cases[name]()).catch((error) => {
  console.error(error);
  process.exit(1);
});
