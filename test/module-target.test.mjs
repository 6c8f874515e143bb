// A module target `{ module, export }` runs in a worker_threads Worker, its own isolate on its own
// OS thread, with the same semantics as a function target: parallel CPU work, daemon or not at
// exit, exceptions to the excepthook before join returns, joinSync, identity and names, every
// form of module reference, bad references and uncloneable arguments refused with typed errors,
// and its output and out-of-memory end delivered before its end. Modules are steered and
// observed through SharedArrayBuffers (shared, not copied, by structured cloning).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  BackgroundThread, BackgroundThreadError, RuntimeError, enumerate, mainThread,
  startNewBackgroundThread,
} from 'background-thread';
import {
  IMPORT, MARKERS, QUICK, assertExit, assertPrompt, describe, lines, runChild,
} from './helpers/child.mjs';
import { throwsTyped } from './helpers/errors.mjs';
import { withExcepthook } from './helpers/excepthook.mjs';
import { until } from './helpers/wait.mjs';

const fixture = (file) => fileURLToPath(new URL(`./fixtures/module-targets/${file}`, import.meta.url));
const moduleOf = (file, exportName) =>
  ({ module: fixture(file), ...(exportName && { export: exportName }) });
const cellsOf = (n = 4) => new Int32Array(new SharedArrayBuffer(4 * n));
const release = (cells, i = 1) => { Atomics.store(cells, i, 1); Atomics.notify(cells, i); };
// A hang guard (a Worker boots in well under a second), generous: the machine may be loaded.
const started = (cells) => until(() => Atomics.load(cells, 0) === 1, 30, 'the module to start');
const listed = (t) => enumerate().includes(t);

/** Runs fn with a hook that records each call and whether `state.joined` was set by then. */
function withHook(fn) {
  const state = { joined: false };
  return withExcepthook(() => fn(state), (args) => ({ args, joinedBefore: state.joined }));
}


// --- parallelism -------------------------------------------------------------------------------

test('two CPU-bound module targets run at the same time, and the event loop keeps ticking meanwhile', async () => {
  // Proven from inside the targets (see spin.mjs), whatever the machine's load: neither yields to
  // its loop, and each sees the other's count rise and this loop's ticks while it spins.
  const cells = cellsOf(5);
  const interval = setInterval(() => { Atomics.add(cells, 4, 1); }, 10);
  const calls = await withHook(async () => {
    const threads = [0, 1].map((i) => new BackgroundThread({
      name: `spinner-${i}`, target: moduleOf('spin.mjs'), args: [cells.buffer, i] }));
    try {
      for (const t of threads) t.start();
      assert.equal(await Promise.all(threads.map((t) => t.join())), [true, true]);
    } finally {
      clearInterval(interval);
    }
  });
  assert.equal(calls.map(({ args }) => String(args.excValue)), [], 'neither spinner gave up');
  assert.equal([cells[2], cells[3]], [1, 1], 'both saw the other run and this loop tick');
});

// --- exit --------------------------------------------------------------------------------------

test('daemon module threads (a 120 s timer, a blocked Atomics.wait) do not delay exit', async () => {
  const r = await runChild(IMPORT + MARKERS + `
const cells = new Int32Array(new SharedArrayBuffer(16));
const sleeper = new BackgroundThread({ daemon: true, target: { module: ${JSON.stringify(fixture('sleep.mjs'))} }, args: [120000] });
const blocked = new BackgroundThread({ daemon: true, target: { module: ${JSON.stringify(fixture('gate.mjs'))} }, args: [cells.buffer] });
sleeper.start();
blocked.start();
while (Atomics.load(cells, 0) === 0) await sleep(1);
process.on('exit', (code) => console.log('EXIT', code, sleeper.isAlive(), blocked.isAlive()));
console.log('MAIN END', sleeper.daemon, blocked.daemon, typeof blocked.nativeId);
`, QUICK);
  assertExit(r, 0, ['MAIN END true true number', 'EXIT 0 true true']);
  assertPrompt(r);  // did not wait for the daemon's 120 s timer
});

test('a non-daemon module thread holds the process open until its module has ended', async () => {
  const r = await runChild(IMPORT + MARKERS + `
const cells = new Int32Array(new SharedArrayBuffer(4));
const t = new BackgroundThread({ target: { module: ${JSON.stringify(fixture('sleep.mjs'))} }, args: [300, cells.buffer] });
t.start();
process.on('exit', (code) => console.log('EXIT', code, Atomics.load(cells, 0), t.isAlive()));
console.log('MAIN END', t.daemon, Atomics.load(cells, 0));
`, QUICK);
  assertExit(r, 0, ['MAIN END false 0', 'EXIT 0 1 false']);
});

// --- exceptions --------------------------------------------------------------------------------

test('a module target that throws (sync, async) reaches the default excepthook; exit code 0', async () => {
  const THROWS = JSON.stringify(fixture('throws.mjs'));
  const r = await runChild(IMPORT + MARKERS + `
const threads = [
  new BackgroundThread({ name: 'sync-thrower', target: { module: ${THROWS}, export: 'throwSync' }, args: ['sync boom', 'E_SYNC'] }),
  new BackgroundThread({ name: 'async-thrower', target: { module: ${THROWS}, export: 'throwAsync' }, args: ['async boom', 'E_ASYNC'] }),
];
for (const t of threads) t.start();
console.log('JOINED', (await Promise.all(threads.map((t) => t.join(10)))).join());
`, QUICK);
  assertExit(r, 0, ['JOINED true,true']);
  assert.match(r.stderr, /Exception in thread sync-thrower:\nError: sync boom\n/, describe(r));
  assert.match(r.stderr, /Exception in thread async-thrower:\nError: async boom\n/, describe(r));
});

test('setExcepthook: thread is the BackgroundThread, excValue keeps message and code, before join/joinSync return', async () => {
  // throwStray: thrown by a timer of the module, outside the export; it ends the thread too.
  const cases = [['throwSync', 'join'], ['throwAsync', 'join'], ['throwSync', 'joinSync'],
    ['throwStray', 'join'], ['throwStray', 'joinSync']];
  const threads = cases.map(([exportName, how]) => new BackgroundThread({
    target: moduleOf('throws.mjs', exportName), args: [`${exportName} via ${how}`, `E_${how}`] }));
  const calls = await withHook(async (state) => {
    for (const [i, [, how]] of cases.entries()) {
      state.joined = false;
      threads[i].start();
      assert.is(how === 'join' ? await threads[i].join() : threads[i].joinSync(), true);
      state.joined = true;
    }
  });
  assert.is(calls.length, cases.length);
  for (const [i, { args, joinedBefore }] of calls.entries()) {
    const [exportName, how] = cases[i];
    assert.is(args.thread, threads[i]);
    assert.instance(args.excValue, Error);
    assert.is(args.excType, Error);
    assert.is(args.excValue.message, `${exportName} via ${how}`);
    assert.is(args.excValue.code, `E_${how}`);
    assert.is(joinedBefore, false, `the hook ran after ${how} returned`);
  }
});

test('a missing module, a missing export, a non-function export: reported with URL and export; join true', async () => {
  const missing = fixture('does-not-exist.mjs');
  const cases = [
    [{ module: missing }, pathToFileURL(missing).href, 'default', BackgroundThreadError, 'ERR_MODULE_TARGET_LOAD'],
    [moduleOf('throws.mjs', 'nope'), pathToFileURL(fixture('throws.mjs')).href, 'nope', TypeError, 'ERR_MODULE_TARGET_EXPORT'],
    [moduleOf('throws.mjs', 'notAFunction'), pathToFileURL(fixture('throws.mjs')).href, 'notAFunction', TypeError, 'ERR_MODULE_TARGET_EXPORT'],
  ];
  const threads = cases.map(([target]) => new BackgroundThread({ target }));
  const calls = await withHook(async (state) => {
    for (const t of threads) t.start();
    assert.equal(await Promise.all(threads.map((t) => t.join(10))), [true, true, true]);
    state.joined = true;
  });
  assert.is(calls.length, 3);
  for (const [i, [, url, exportName, Type, code]] of cases.entries()) {
    const { args, joinedBefore } = calls.find((call) => call.args.thread === threads[i]);
    assert.is(joinedBefore, false, 'the hook ran after join resolved');
    assert.instance(args.excValue, Type);
    assert.is(args.excValue.code, code);
    assert.ok(args.excValue.message.includes(url), args.excValue.message);
    assert.ok(args.excValue.message.includes(`"${exportName}"`), args.excValue.message);
  }
});

test('CommonJS: a name Node\'s static analysis does not find is looked up on module.exports; not an ES module\'s default', async () => {
  const hello = new BackgroundThread({ target: moduleOf('named.cjs', 'hello'), args: ['ann'] });
  hello.start();
  assert.is(await hello.join(10), true);
  assert.equal([hello.result, hello.exception], ['hello ann', undefined]);
  const refused = [moduleOf('named.cjs', 'notAFunction'), moduleOf('named.cjs', 'nope'), moduleOf('default-object.mjs', 'hello')]
    .map((target) => new BackgroundThread({ target }));
  await withHook(async () => {
    for (const t of refused) t.start();
    assert.equal(await Promise.all(refused.map((t) => t.join(10))), [true, true, true]);
  });
  assert.equal(refused.map(({ exception }) => [exception.code, /not a function|no such export/.exec(exception.message)?.[0]]), [
    ['ERR_MODULE_TARGET_EXPORT', 'not a function'], ['ERR_MODULE_TARGET_EXPORT', 'no such export'],
    ['ERR_MODULE_TARGET_EXPORT', 'no such export']]);
});

// --- joinSync ----------------------------------------------------------------------------------

test('joinSync(timeout): false while the module runs, true once it has ended', async () => {
  const cells = cellsOf();
  const t = new BackgroundThread({ target: moduleOf('gate.mjs'), args: [cells.buffer] });
  t.start();
  await started(cells);
  assert.is(t.joinSync(0), false);
  assert.is(t.joinSync(0.05), false);
  assert.ok(t.isAlive());
  assert.is(Atomics.load(cells, 2), 0, 'the module has not gone on');
  release(cells);
  assert.is(t.joinSync(10), true);
  assert.is(Atomics.load(cells, 2), 1, 'the module ran to its end');
  assert.not.ok(t.isAlive());
  assert.not.ok(listed(t));
  assert.is(t.joinSync(0), true);
  assert.is(await t.join(0), true);
});

test('joinSync() without a timeout blocks until the module ends (it needs nothing from this loop)', () => {
  const cells = cellsOf(1);
  const t = new BackgroundThread({ target: moduleOf('sleep.mjs'), args: [200, cells.buffer] });
  t.start();
  assert.is(Atomics.load(cells, 0), 0);
  assert.is(t.joinSync(), true);
  assert.is(Atomics.load(cells, 0), 1, 'joinSync returned before the module finished');
  assert.not.ok(t.isAlive());
  assert.not.ok(listed(t));
});

// --- arguments ---------------------------------------------------------------------------------

test('args or kwargs that cannot be cloned: TypeError ERR_INVALID_ARG_VALUE at start(), thread unstarted', async () => {
  for (const options of [{ args: [() => {}] }, { kwargs: { callback() {} } }]) {
    const t = new BackgroundThread({ target: moduleOf('store.mjs'), ...options });
    throwsTyped(() => t.start(), TypeError, 'ERR_INVALID_ARG_VALUE', 'start()');
    throwsTyped(() => t.start(), TypeError, 'ERR_INVALID_ARG_VALUE', 'a second start(): the same');
    assert.is(t.ident, null);
    assert.is(t.nativeId, null);
    assert.not.ok(t.isAlive());
    assert.not.ok(listed(t));
    assert.is(enumerate().length, 1);
  }
});

test('a start() refused for uncloneable args leaks nothing that holds the process open', async () => {
  const r = await runChild(IMPORT + MARKERS + `
let refused = 0;
for (const options of [{ args: [() => {}] }, { kwargs: { callback() {} } }]) {
  try { new BackgroundThread({ target: { module: ${JSON.stringify(fixture('store.mjs'))} }, ...options }).start(); }
  catch (error) { if (error.code === 'ERR_INVALID_ARG_VALUE') refused++; }
}
process.on('exit', (code) => console.log('EXIT', code));
console.log('REFUSED', refused, enumerate().length);
`, QUICK);
  assertExit(r, 0, ['REFUSED 2 1', 'EXIT 0']);  // a leak would hold it until killed
});

// --- identity ----------------------------------------------------------------------------------

test('identity: currentThread() inside, OS thread name, nativeId, enumerate, isAlive, unique ident', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bgthread-isolated-'));
  const other = new BackgroundThread({ target: () => {} });
  other.start();
  try {
    for (const daemon of [false, true]) {
      const cells = cellsOf();
      const out = path.join(dir, `identity-${daemon}.json`);
      const name = `isolated-identity-${daemon ? 'daemon' : 'plain'}`;
      const t = new BackgroundThread({ name, daemon, target: moduleOf('identify.mjs'), kwargs: { out, shared: cells.buffer } });
      t.start();
      assert.ok(Number.isSafeInteger(t.ident) && t.ident > 0);
      assert.ok(listed(t));
      await started(cells);
      const inside = JSON.parse(readFileSync(out, 'utf8'));
      assert.equal(inside, {
        name, ident: t.ident, daemon,
        text: `<BackgroundThread(${name}, started${daemon ? ' daemon' : ''} ${t.ident})>`,
        comm: inside.comm,
      });
      const nativeId = t.nativeId;
      assert.ok(Number.isSafeInteger(nativeId) && nativeId > 0, `nativeId once booted: ${nativeId}`);
      assert.is.not(nativeId, process.pid);
      if (process.platform === 'linux') {
        const truncated = Buffer.from(name).subarray(0, 15).toString();
        assert.is(inside.comm, truncated, 'the OS thread\'s name, seen from inside');
        assert.is(readFileSync(`/proc/self/task/${nativeId}/comm`, 'utf8').trim(), truncated);
      }
      assert.ok(t.isAlive());
      assert.ok(listed(t));
      assert.not.ok(new Set([mainThread().ident, other.ident]).has(t.ident));
      release(cells);
      assert.is(await t.join(), true);
      assert.not.ok(t.isAlive());
      assert.not.ok(listed(t));
      assert.is(t.nativeId, nativeId, 'nativeId stays after the end');
    }
  } finally {
    await other.join();
    rmSync(dir, { recursive: true, force: true });
  }
});

// --- module forms and endings ------------------------------------------------------------------

test('module as relative path, URL, file: URL string, data: URL, CommonJS file; startNewBackgroundThread', async () => {
  const cells = cellsOf(6);
  const storeSource = 'export default (shared, index, value) => Atomics.store(new Int32Array(shared), index, value);';
  const targets = [
    { module: path.relative(process.cwd(), fixture('store.mjs')) },
    { module: pathToFileURL(fixture('store.mjs')) },
    { module: pathToFileURL(fixture('store.mjs')).href },
    { module: `data:text/javascript,${encodeURIComponent(storeSource)}` },
    moduleOf('store.cjs'),
  ];
  assert.not.ok(path.isAbsolute(targets[0].module));
  const threads = targets.map((target, i) =>
    new BackgroundThread({ target, args: [cells.buffer, i, 10 + i] }));
  for (const t of threads) t.start();
  const ident = startNewBackgroundThread(moduleOf('store.mjs'), [cells.buffer, 5, 15]);
  assert.ok(Number.isSafeInteger(ident) && ident > 0);
  const byIdent = enumerate().find((t) => t.ident === ident);
  assert.instance(byIdent, BackgroundThread);
  threads.push(byIdent);
  assert.equal(await Promise.all(threads.map((t) => t.join(10))), threads.map(() => true));
  assert.equal([...cells], [10, 11, 12, 13, 14, 15]);
});

for (const wait of ['poll', 'waitAsync']) {
  // waitAsync holds no handle in the Worker's loop: the runner must keep the thread alive itself.
  test(`an async export (${wait}) ends the thread only once its awaited promise settles`, async () => {
    const cells = cellsOf();
    const t = new BackgroundThread({ target: moduleOf('gate.mjs'), args: [cells.buffer], kwargs: { wait } });
    t.start();
    await started(cells);
    assert.is(await t.join(0.05), false, 'ended while its export still awaited');
    assert.ok(t.isAlive());
    release(cells);
    assert.is(await t.join(), true);
    assert.is(Atomics.load(cells, 2), 1);
  });
}

test('a module that leaves a setInterval running still ends when its export returns', async () => {
  const t = new BackgroundThread({ target: moduleOf('leaves-interval.mjs') });
  t.start();
  assert.is(await t.join(10), true);
  assert.not.ok(t.isAlive());
});

// --- bad references ----------------------------------------------------------------------------

test('bad module references, stackSize: TypeError at construction; run(): ERR_MODULE_TARGET_RUN', () => {
  const file = fixture('store.mjs');
  const cases = [
    [{ target: { module: file, exprt: 'x' } }, 'ERR_INVALID_ARG_VALUE'],
    [{ target: { module: 42 } }, 'ERR_INVALID_ARG_TYPE'],
    [{ target: { module: null } }, 'ERR_INVALID_ARG_TYPE'],
    [{ target: { module: '' } }, 'ERR_INVALID_ARG_TYPE'],
    [{ target: { module: file, export: '' } }, 'ERR_INVALID_ARG_TYPE'],
    [{ target: { module: file, export: 7 } }, 'ERR_INVALID_ARG_TYPE'],
    [{ target: { module: 'http://[::1' } }, 'ERR_INVALID_URL'],
    [{ target: { module: file }, stackSize: 65536 }, 'ERR_INVALID_ARG_VALUE'],
  ];
  for (const [options, code] of cases) {
    throwsTyped(() => new BackgroundThread(options), TypeError, code, JSON.stringify(options));
  }
  throwsTyped(() => startNewBackgroundThread({ module: '' }), TypeError, 'ERR_INVALID_ARG_TYPE', 'startNew');
  const t = new BackgroundThread({ target: { module: file } });
  throwsTyped(() => t.run(), RuntimeError, 'ERR_MODULE_TARGET_RUN', 'run()');
  assert.not.ok(t.isAlive());
});

// --- what a module writes, and how its Worker died, arrive before its end ------------------------

const PRINTS = ['line 1 of 3', 'line 2 of 3', 'line 3 of 3', 'bytes', 'hex'];

// A warm isolate outlives the thread, so the module's own 'exit' listener runs only when the
// isolate ends: at once on a fresh isolate, or when the module itself calls process.exit().
for (const [how, join, exitCode] of [
  ['await join(), then process.exit()', 'await t.join();', 'null'],
  ['joinSync(20), then process.exit()', 't.joinSync(20);', 'null'],
  ['joinSync(), the module calling process.exit(3)', 't.joinSync();', '3'],
  ['joinAll(), then process.exit()', 'await joinAll();', 'null'],
]) {
  for (const isolate of ['warm', 'fresh']) {
    test(`a module's stdout and stderr reach this process before ${how} returns, every time (${isolate})`, async () => {
      const exitListener = isolate === 'fresh' || exitCode !== 'null' ? ['exit listener'] : [];
      for (let run = 0; run < 4; run++) {
        const r = await runChild(IMPORT + `
const t = new BackgroundThread({ target: { module: ${JSON.stringify(fixture('prints.mjs'))} }, args: [3, ${exitCode}], isolate: '${isolate}' });
t.start();
${join}
console.log('JOINED', t.isAlive());
process.exit(0);
`, QUICK);
        assertExit(r, 0, [...PRINTS, ...exitListener, 'JOINED false']);
        assert.equal(lines(r.stderr), ['to stderr'], describe(r));
      }
    });
  }
}

test('a module target that runs out of memory: its error reaches the excepthook before join() resolves', async () => {
  const r = await runChild(IMPORT + `
let joined = false;
setExcepthook((args) => console.log('HOOK', args.excValue?.code, args.thread === t, 'joined before:', joined));
const t = new BackgroundThread({ target: { module: ${JSON.stringify(fixture('oom.mjs'))} } });
t.start();
joined = await t.join();
console.log('JOINED', joined, t.isAlive());
`, { timeout: 60000, execArgv: ['--max-old-space-size=64'] });
  assertExit(r, 0, ['HOOK ERR_WORKER_OUT_OF_MEMORY true joined before: false', 'JOINED true false']);
});

test('joinSync on a module target that ran out of memory: ERR_JOIN_WOULD_DEADLOCK (its error needs this loop), then join() delivers it', async () => {
  const r = await runChild(IMPORT + `
setExcepthook((args) => console.log('HOOK', args.excValue?.code));
const t = new BackgroundThread({ target: { module: ${JSON.stringify(fixture('oom.mjs'))} } });
t.start();
try { t.joinSync(); } catch (e) { console.log('THREW', e.code, t.isAlive()); }
console.log('JOINED', await t.join(), t.isAlive());
`, { timeout: 60000, execArgv: ['--max-old-space-size=64'] });
  assertExit(r, 0, ['THREW ERR_JOIN_WOULD_DEADLOCK true', 'HOOK ERR_WORKER_OUT_OF_MEMORY', 'JOINED true false']);
});

test.run();
