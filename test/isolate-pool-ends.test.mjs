// How warm isolates end, and the ends of processes and Workers that have some. An isolate that
// died (its module called process.exit(), left an uncaught error, ran out of memory) is never
// reused, nor handed a run while it dies; idle isolates never hold the process open (whatever
// maxIdle and idleTimeout keep), a daemon module thread on a reused isolate does not either, a
// non-daemon one does until it ends, and so do threads waiting under maxIsolates; a Worker
// terminated with busy and idle isolates of its own, and process.exit() with busy, idle and
// waiting ones, leave no crash, and the parent goes on. Exit and teardown in child processes;
// timeouts are hang guards only. The pool itself: test/isolate-pool.test.mjs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  BackgroundThread, BackgroundThreadError,
} from 'background-thread';
import { IMPORT, QUICK, assertExit, importHelpers, repeatChildren, runChild } from './helpers/child.mjs';
import { counts, emptyPool, ended, fixture, gate, poolTarget, releaseAll, until } from './helpers/isolates.mjs';
import { gone, linux } from './helpers/os-threads.mjs';
import { withExcepthook } from './helpers/excepthook.mjs';

const POOL = JSON.stringify(fixture('pool.mjs'));
// Child scripts: the package, the pool's API, and a gate like helpers/isolates.mjs's.
const CHILD = IMPORT + importHelpers('os-threads.mjs', ['gone', 'linux']) + `
import { isolatePool, setIsolatePool } from 'background-thread';
const POOL = ${POOL};
const gate = () => {
  const cells = new Int32Array(new SharedArrayBuffer(16));
  return { buffer: cells.buffer, started: async () => { while (Atomics.load(cells, 0) === 0) await sleep(1); } };
};
`;
const runPoolChild = (source, options = QUICK) => runChild(CHILD + source, options);

test.after.each(releaseAll);

// --- poisoned isolates ---------------------------------------------------------------------------

/** Runs a thread to its end on a new isolate (pool.mjs loaded there: counter 1); its nativeId. */
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
  const calls = await withExcepthook(async () => {
    const exiting = await ended({ target: poolTarget('exitWith'), args: [3] });
    assert.is(exiting.nativeId, home, 'it ran on the warm isolate');
    assert.is(exiting.exception, undefined, 'process.exit() is not an exception');
    assert.is(exiting.result, undefined);
    await assertNotReused(home);
  });
  assert.is(calls.length, 0);
});

test('a thread that left a timer that throws: its exception before join() resolves, or never; the isolate is not reused', async () => {
  // The timer (1 ms) is a leftover: it fires in the settling turn (the thread's own exception,
  // and its join() waits for it), or the isolate retires first and it never runs.
  await emptyPool();
  const home = await warmIsolate();
  const calls = await withExcepthook(async (calls) => {
    const leaver = await ended({ target: poolTarget('throwLater'), args: ['left behind'] });
    assert.equal([leaver.nativeId, leaver.result], [home, 2], 'it ran and returned on the warm isolate');
    const atJoin = leaver.exception;
    if (atJoin !== undefined) assert.is(atJoin.message, 'left behind');
    assert.equal(calls.map((call) => call.thread), atJoin === undefined ? [] : [leaver]);
    await assertNotReused(home);
    assert.is(leaver.exception, atJoin, 'final once join() resolved');
  });
  assert.ok(calls.length <= 1);
});

test('a thread handed to an idle isolate that an unref\'d leftover then ends runs on another isolate', async () => {
  // An unref'd timer is no leftover (as in a process, nothing waits for it): the isolate is
  // reused, and is blocked in the timer that will throw (pool.mjs throwLater with cells 2 and 3,
  // unref'd, armed once the leaver has ended) when the next thread is handed to it. Nothing of that
  // run began: it starts again elsewhere.
  await emptyPool();
  const home = await warmIsolate();
  await withExcepthook(async (calls) => {
    const g = gate();
    const leaver = await ended({ target: poolTarget('throwLater'), args: ['left behind', g.buffer, true] });
    assert.is(leaver.nativeId, home);
    g.release();
    await until(() => Atomics.load(g.cells, 2) === 1, 30, 'the timer to run');
    const next = new BackgroundThread({ name: 'handed-to-a-dying-isolate', target: poolTarget('count') });
    next.start();
    Atomics.store(g.cells, 3, 1);
    Atomics.notify(g.cells, 3);
    assert.is(await next.join(), true);
    assert.equal([next.result, next.exception], [1, undefined], 'it ran, elsewhere, on a fresh module');
    assert.is.not(next.nativeId, home);
    assert.equal(calls.map((call) => [call.thread, call.excValue.message]), [[leaver, 'left behind']],
      'the stray error reached the hook with the thread that left it');
    assert.is(leaver.exception, undefined, 'final once join() resolved');
    await until(() => counts().busy === 0, 30, 'the dead isolate to leave the pool');
  });
});

test('a run that moved values, handed to an idle isolate that an unref\'d leftover then ends, fails with ERR_MODULE_TARGET_ISOLATE_ENDED', async () => {
  await emptyPool();
  const home = await warmIsolate();
  await withExcepthook(async (calls) => {
    const g = gate();
    await ended({ target: poolTarget('throwLater'), args: ['left behind', g.buffer, true] });
    g.release();
    await until(() => Atomics.load(g.cells, 2) === 1, 30, 'the timer to run');
    const moved = new ArrayBuffer(8);
    const next = new BackgroundThread({ target: poolTarget('count'), args: [null, moved], transfer: [moved] });
    next.start();
    Atomics.store(g.cells, 3, 1);
    Atomics.notify(g.cells, 3);
    assert.is(await next.join(), true);
    const mine = calls.filter((call) => call.thread === next);
    assert.is(mine.length, 1, `told once why it did not run: result ${next.result}, exception ${next.exception}`);
    assert.instance(mine[0].excValue, BackgroundThreadError);
    assert.is(mine[0].excValue.code, 'ERR_MODULE_TARGET_ISOLATE_ENDED');
    assert.match(mine[0].excValue.message, /did not run/);
    assert.is(next.exception, mine[0].excValue);
    assert.is(next.nativeId, null, 'it never ran on an OS thread');
    assert.ok(home !== null);
    await until(() => counts().busy === 0, 30, 'the dead isolate to leave the pool');
  });
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

// --- idle isolates and keep-alive ----------------------------------------------------------------

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
    // At the loop's end the idle isolates were ended (their modules' 'exit' listeners ran).
    assertExit(r, 0, ['MAIN END true', 'EXIT 0 false 0']);
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

// --- teardown -----------------------------------------------------------------------------------

test('a Worker terminated with busy and idle isolates of its own: the parent goes on, no crash, the isolates gone', async () => {
  await repeatChildren('terminate a Worker with a pool', 4, () => ({
    source: CHILD + `
import { Worker } from 'node:worker_threads';
const w = new Worker(new URL(${JSON.stringify(new URL('./fixtures/module-targets/pool-worker.mjs', import.meta.url).href)}), { execArgv: [] });
w.on('error', (e) => console.log('WORKER ERROR', e && e.stack));
const ready = await new Promise((resolve, reject) => {
  w.on('message', (m) => { if (m.kind === 'ready') resolve(m); });
  w.on('exit', (code) => reject(new Error('the Worker exited first: ' + code)));
});
console.log('READY', ready.idle, ready.busy, ready.alive.join(), ready.nativeIds.length);
console.log('TERMINATED', await w.terminate());
console.log('ISOLATES GONE', !linux || await gone(ready.nativeIds, 30));
const t = new BackgroundThread({ target: { module: POOL, export: 'count' } });
t.start();
console.log('PARENT GOES ON', await t.join(), t.result, ready.nativeIds.includes(t.nativeId));
`,
    check: (r) => assertExit(r, 0, ['READY 2 2 true,true 4', 'TERMINATED 1', 'ISOLATES GONE true', 'PARENT GOES ON true 1 false']),
  }));
});

for (const [label, setup] of [
  ['busy and idle isolates', ''],
  ['a busy isolate and threads waiting for it (maxIsolates: 1)', 'setIsolatePool({ maxIsolates: 1 });'],
]) {
  test(`process.exit(5) with ${label}: exit code 5, no crash`, async () => {
    await repeatChildren(`process.exit(5) with ${label}`, 4, () => ({
      source: CHILD + `
${setup}
const done = [0, 1].map(() => new BackgroundThread({ target: { module: POOL, export: 'count' } }));
for (const t of done) t.start();
await Promise.all(done.map((t) => t.join()));
const gates = [gate(), gate()];
const held = gates.map((g, i) => new BackgroundThread({ daemon: i === 1, target: { module: POOL, export: 'count' }, args: [g.buffer] }));
for (const t of held) t.start();
const queued = [0, 1].map(() => new BackgroundThread({ target: { module: POOL, export: 'later' }, args: [1] }));
for (const t of queued) t.start();
await gates[0].started();
process.on('exit', (code) => console.log('EXIT', code, held.every((t) => t.isAlive())));
console.log('POOL', JSON.stringify(isolatePool().busy > 0));
process.exit(5);
`,
      check: (r) => assertExit(r, 5, ['POOL true', 'EXIT 5 true']),
    }));
  });
}

test.run();
