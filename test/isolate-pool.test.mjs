// Warm isolates (src/isolate-pool.ts): a module thread runs on an idle isolate of this loop when
// there is one, with the module state earlier threads left there and its own identity; an
// isolate that died (process.exit(), an uncaught error, out of memory) is never reused; idle
// isolates never hold the process open; maxIdle and idleTimeout trim the idle ones, maxIsolates
// queues; setIsolatePool() checks its input; isolates go away with their Worker or process.
// Which isolate a thread ran on is its nativeId (the isolate's OS thread); a module's state is
// pool.mjs's counter. Results and exceptions: test/thread-results.test.mjs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import {
  BackgroundThread, BackgroundThreadError, RuntimeError, enumerate, getExcepthook, isolatePool, setExcepthook, setIsolatePool,
} from 'background-thread';
import { IMPORT, QUICK, assertExit, describe, repeatChildren, runChild } from './helpers/child.mjs';
import { throwsTyped } from './helpers/errors.mjs';
import {
  SETTINGS, burst, counts, emptyPool, ended, fixture, gate, poolTarget, sleep, until,
} from './helpers/isolates.mjs';
import { gone, linux } from './helpers/os-threads.mjs';

const POOL = JSON.stringify(fixture('pool.mjs'));
// Child scripts: the package, the pool's API, and a gate like helpers/isolates.mjs's.
const CHILD = IMPORT + `
import { isolatePool, setIsolatePool } from 'background-thread';
const POOL = ${POOL};
const gate = () => {
  const cells = new Int32Array(new SharedArrayBuffer(16));
  return { buffer: cells.buffer, started: async () => { while (Atomics.load(cells, 0) === 0) await sleep(1); } };
};
`;
const comm = (nativeId) => readFileSync(`/proc/self/task/${nativeId}/comm`, 'utf8').trim();
const truncated = (name) => Buffer.from(name).subarray(0, 15).toString();

test.after.each(() => { setIsolatePool(SETTINGS); });

// --- reuse ---------------------------------------------------------------------------------------

test('a second module thread runs on the idle isolate: same nativeId, module state kept, idle 1 -> 0 -> 1', async () => {
  await emptyPool();
  const first = await ended({ target: poolTarget('count') });
  assert.is(first.result, 1);
  assert.ok(Number.isSafeInteger(first.nativeId) && first.nativeId > 0, `nativeId ${first.nativeId}`);
  assert.equal(counts(), { idle: 1, busy: 0, waiting: 0 }, 'its isolate is idle');
  const g = gate();
  const second = new BackgroundThread({ target: poolTarget('count'), args: [g.buffer], isolate: 'warm' });
  second.start();
  assert.equal(counts(), { idle: 0, busy: 1, waiting: 0 }, 'start() took the idle isolate');
  await g.started();
  assert.is(second.nativeId, first.nativeId, 'the same isolate');
  assert.equal(counts(), { idle: 0, busy: 1, waiting: 0 });
  g.release();
  assert.is(await second.join(), true);
  assert.is(second.result, 2, 'the module was not loaded again: its counter went on');
  assert.equal(counts(), { idle: 1, busy: 0, waiting: 0 }, 'idle again');
  const third = await ended({ target: poolTarget('count') });
  assert.equal([third.nativeId, third.result], [first.nativeId, 3]);
});

test("isolate: 'fresh' runs on an isolate of its own: another nativeId, the module from scratch, pool counts unchanged", async () => {
  await emptyPool();
  const warm = await ended({ target: poolTarget('count') });
  const g = gate();
  const fresh = new BackgroundThread({ target: poolTarget('count'), args: [g.buffer], isolate: 'fresh' });
  fresh.start();
  assert.equal(counts(), { idle: 1, busy: 0, waiting: 0 }, 'the idle isolate was not taken');
  await g.started();
  assert.ok(Number.isSafeInteger(fresh.nativeId));
  assert.is.not(fresh.nativeId, warm.nativeId);
  assert.equal(counts(), { idle: 1, busy: 0, waiting: 0 }, 'a fresh isolate is not in the pool');
  g.release();
  assert.is(await fresh.join(), true);
  assert.is(fresh.result, 1, 'its counter started over');
  assert.equal(counts(), { idle: 1, busy: 0, waiting: 0 }, 'it did not join the pool');
  if (linux) assert.ok(await gone([fresh.nativeId], 30), 'the fresh isolate ended with its thread');
  const again = await ended({ target: poolTarget('count') });
  assert.equal([again.nativeId, again.result], [warm.nativeId, 2], 'the warm isolate was left alone');
});

// --- identity on a reused isolate ----------------------------------------------------------------

test('on a reused isolate currentThread() is each thread: its ident, name, daemon flag; the OS thread takes each name', async () => {
  await emptyPool();
  const specs = [
    { name: 'pool-first-thread-with-a-long-name', daemon: false },
    { name: 'pool-second', daemon: true },
    { name: 'pool-third', daemon: false },
  ];
  let home = null;
  for (const [i, { name, daemon }] of specs.entries()) {
    const g = gate();
    const t = new BackgroundThread({ name, daemon, target: poolTarget('whoami'), args: [g.buffer] });
    t.start();
    await g.started();
    home ??= t.nativeId;
    assert.is(t.nativeId, home, `thread ${i} on the same isolate`);
    if (linux) assert.is(comm(t.nativeId), truncated(name), `the OS thread's name while thread ${i} runs`);
    g.release();
    assert.is(await t.join(), true);
    assert.equal(t.result, {
      name, ident: t.ident, daemon,
      text: `<BackgroundThread(${name}, started${daemon ? ' daemon' : ''} ${t.ident})>`,
      comm: linux ? truncated(name) : null,
      calls: i + 1,
    }, `inside thread ${i}`);
  }
});

// --- poisoned isolates ---------------------------------------------------------------------------

/** A thread on the warm isolate (counter 1 -> 2), then `poison` on it; returns the home nativeId. */
async function warmIsolate() {
  const warm = await ended({ target: poolTarget('count') });
  assert.is(warm.result, 1);
  return warm.nativeId;
}

/**
 * After the poisoned isolate, at once (its Worker may not have exited yet): the next thread runs
 * elsewhere, on a module loaded from scratch; the dead isolate then leaves the pool.
 */
async function assertNotReused(home) {
  const next = await ended({ target: poolTarget('count') });
  assert.is.not(next.nativeId, home, 'another isolate');
  assert.is(next.result, 1, 'fresh module state');
  if (linux) assert.ok(await gone([home], 30), 'the dead isolate\'s OS thread is gone');
  await until(() => counts().busy === 0, 30, 'the dead isolate to leave the pool');
  assert.equal(counts(), { idle: 1, busy: 0, waiting: 0 }, 'only the next thread\'s isolate is left');
}

test('an isolate whose module called process.exit(3) is never reused', async () => {
  await emptyPool();
  const home = await warmIsolate();
  const calls = [];
  const previous = getExcepthook();
  setExcepthook((args) => { calls.push(args); });
  try {
    const exiting = await ended({ target: poolTarget('exitWith'), args: [3] });
    assert.is(exiting.nativeId, home, 'it ran on the warm isolate');
    assert.is(exiting.exception, undefined, 'process.exit() is not an exception');
    assert.is(exiting.result, undefined);
    await assertNotReused(home);
  } finally {
    setExcepthook(previous);
  }
  assert.is(calls.length, 0);
});

test('an isolate left with an uncaught error (a timer throwing after its thread ended) dies; the error is that thread\'s', async () => {
  await emptyPool();
  const home = await warmIsolate();
  const calls = [];
  const previous = getExcepthook();
  setExcepthook((args) => { calls.push(args); });
  try {
    const leaver = await ended({ target: poolTarget('throwLater'), args: ['left behind'] });
    assert.equal([leaver.nativeId, leaver.result], [home, 2], 'it ran and returned on the warm isolate');
    await until(() => calls.length === 1, 30, 'the stray error to reach the excepthook');
    assert.is(calls[0].thread, leaver, 'the ended thread\'s error');
    assert.is(calls[0].excValue.message, 'left behind');
    assert.is(leaver.exception, calls[0].excValue);
    await assertNotReused(home);
  } finally {
    setExcepthook(previous);
  }
  assert.is(calls.length, 1);
});

test('a thread handed to an idle isolate that a stray error then ends is not silently lost', async () => {
  // The isolate is idle and blocked in the timer that will throw (pool.mjs throwLater with cells
  // 2 and 3) when the next thread is handed to it: that run can never begin there.
  await emptyPool();
  const home = await warmIsolate();
  const calls = [];
  const previous = getExcepthook();
  setExcepthook((args) => { calls.push(args); });
  try {
    const g = gate();
    const leaver = await ended({ target: poolTarget('throwLater'), args: ['left behind', g.buffer] });
    assert.is(leaver.nativeId, home);
    await until(() => Atomics.load(g.cells, 2) === 1, 30, 'the timer to run');
    const next = new BackgroundThread({ name: 'handed-to-a-dying-isolate', target: poolTarget('count') });
    next.start();
    Atomics.store(g.cells, 3, 1);
    Atomics.notify(g.cells, 3);
    assert.is(await next.join(), true);
    // It cannot run there, and it must not end as if it had: it is told, as a broken pool's work is.
    const mine = calls.filter((call) => call.thread === next);
    assert.is(mine.length, 1, `told once why it did not run: result ${next.result}, exception ${next.exception}`);
    assert.instance(mine[0].excValue, BackgroundThreadError);
    assert.is(mine[0].excValue.code, 'ERR_MODULE_TARGET_ISOLATE_ENDED');
    assert.match(mine[0].excValue.message, /did not run/);
    assert.is(next.exception, mine[0].excValue);
    assert.is(next.result, undefined);
    assert.is(next.nativeId, null, 'it never ran on an OS thread');
    assert.ok(calls.some((call) => call.thread === leaver && call.excValue.message === 'left behind'));
    await assertNotReused(home);
  } finally {
    setExcepthook(previous);
  }
});

test('an isolate that ran out of memory is never reused', async () => {
  const r = await runPoolChild(`
const home = new BackgroundThread({ target: { module: POOL, export: 'count' } });
home.start();
await home.join();
setExcepthook((args) => console.log('HOOK', args.excValue?.code));
const oom = new BackgroundThread({ target: { module: ${JSON.stringify(fixture('oom.mjs'))} } });
oom.start();
while (oom.nativeId === null) await sleep(1);
console.log('SAME ISOLATE', oom.nativeId === home.nativeId);
await oom.join();
while (isolatePool().busy > 0) await sleep(1);
console.log('POOL', JSON.stringify([isolatePool().idle, isolatePool().busy]));
const next = new BackgroundThread({ target: { module: POOL, export: 'count' } });
next.start();
await next.join();
console.log('NEXT', home.result, next.result, next.nativeId !== home.nativeId);
`, { timeout: 60000, execArgv: ['--max-old-space-size=64'] });
  assertExit(r, 0, ['SAME ISOLATE true', 'HOOK ERR_WORKER_OUT_OF_MEMORY', 'POOL [0,0]', 'NEXT 1 1 true']);
});

// --- the process's end -------------------------------------------------------------------------

function runPoolChild(source, options = QUICK) {
  return runChild(CHILD + source, options);
}

for (const [label, settings] of [
  ['the default settings', '{}'],
  ['maxIdle: 0, idleTimeout: 120 (a sweep pending)', '{ maxIdle: 0, idleTimeout: 120 }'],
  ['maxIdle: 0, idleTimeout: Infinity', '{ maxIdle: 0, idleTimeout: Infinity }'],
]) {
  test(`idle isolates never hold the process open (${label})`, async () => {
    // A hang guard only: held open, the child would be killed after QUICK.timeout.
    const r = await runPoolChild(`
setIsolatePool(${settings});
const threads = [0, 1, 2].map(() => new BackgroundThread({ target: { module: POOL, export: 'count' } }));
for (const t of threads) t.start();
await Promise.all(threads.map((t) => t.join()));
const again = new BackgroundThread({ target: { module: POOL, export: 'count' } });
again.start();
await again.join();
process.on('exit', (code) => console.log('EXIT', code, isolatePool().idle > 0, isolatePool().busy));
console.log('MAIN END', again.result > 1);
`);
    assertExit(r, 0, ['MAIN END true', 'EXIT 0 true 0']);
  });
}

test('a daemon module thread that never ends, on a reused isolate, does not hold the process open', async () => {
  const r = await runPoolChild(`
const warm = new BackgroundThread({ target: { module: POOL, export: 'count' } });
warm.start();
await warm.join();
const g = gate();
const forever = new BackgroundThread({ daemon: true, target: { module: POOL, export: 'count' }, args: [g.buffer] });
forever.start();
await g.started();
process.on('exit', (code) => console.log('EXIT', code, forever.isAlive()));
console.log('MAIN END', forever.nativeId === warm.nativeId);
`);
  assertExit(r, 0, ['MAIN END true', 'EXIT 0 true']);
});

test('a non-daemon module thread on a reused (unref\'d) isolate holds the process open until it ends', async () => {
  const r = await runPoolChild(`
const SLEEP = ${JSON.stringify(fixture('sleep.mjs'))};
const warm = new BackgroundThread({ target: { module: SLEEP }, args: [1] });
warm.start();
await warm.join();
const flag = new Int32Array(new SharedArrayBuffer(4));
const t = new BackgroundThread({ target: { module: SLEEP }, args: [300, flag.buffer] });
t.start();
while (t.nativeId === null) await sleep(1);
process.on('exit', (code) => console.log('EXIT', code, Atomics.load(flag, 0), t.isAlive()));
console.log('MAIN END', t.nativeId === warm.nativeId, Atomics.load(flag, 0));
`);
  assertExit(r, 0, ['MAIN END true 0', 'EXIT 0 1 false']);
});

test('non-daemon module threads waiting under maxIsolates hold the process open until they have run', async () => {
  const r = await runPoolChild(`
setIsolatePool({ maxIsolates: 1 });
const threads = [1, 2, 3].map((i) => new BackgroundThread({ target: { module: POOL, export: 'later' }, args: [i] }));
for (const t of threads) t.start();
process.on('exit', (code) => console.log('EXIT', code, threads.map((t) => t.result).join()));
console.log('MAIN END', isolatePool().waiting);
`);
  assertExit(r, 0, ['MAIN END 2', 'EXIT 0 1,2,3']);
});

test.run();
