// What a module thread leaves behind on its warm isolate once its export has settled: an isolate
// is handed the next thread only when the last one left nothing pending (timers, immediates,
// handles, requests: what would keep a Node process alive), else it is retired and ends with its
// leftovers, so that nothing of one thread reaches the next: not its errors, not its
// process.exit(), not its isolate's end; a thread's result and exception are final once join()
// resolves. Threads that an export starts run on in their isolate after it: the non-daemon ones
// hold the creator's process open and joinAll() waits for them, daemon ones hold nothing; such an
// isolate is not reused. Fixture: test/fixtures/module-targets/leftovers.mjs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BackgroundThread } from 'background-thread';
import {
  IMPORT, QUICK, assertExit, assertPrompt, runChild,
} from './helpers/child.mjs';
import { withExcepthook } from './helpers/excepthook.mjs';
import {
  counts, emptyPool, ended, fixture, gate, poolTarget, releaseAll, until,
} from './helpers/isolates.mjs';
import { linux, tasks } from './helpers/os-threads.mjs';
import { CLEAN_KINDS, LEFTOVER_KINDS } from './fixtures/module-targets/leftovers.mjs';

const LEFTOVERS = fixture('leftovers.mjs');
const leftovers = (exportName) => poolTarget(exportName, 'leftovers.mjs');
const cellsOf = () => new Int32Array(new SharedArrayBuffer(16));
/** The isolate (its OS thread) is gone: it ended. */
const isolateGone = (nativeId) => linux && !tasks().includes(nativeId);

test.after.each(releaseAll);

// --- what is a leftover --------------------------------------------------------------------------

for (const kind of LEFTOVER_KINDS) {
  test(`an export that leaves ${kind} behind: its isolate is not reused, and ends with what it left`, async () => {
    await emptyPool();
    const cells = cellsOf();
    const first = await ended({ target: leftovers('leave'), args: [kind, cells.buffer] });
    assert.is(first.result, 1);
    const next = await ended({ target: leftovers('count') });
    assert.is.not(next.nativeId, first.nativeId, 'the next thread ran on another isolate');
    assert.is(next.result, 1, 'on a module loaded from scratch');
    if (linux) await until(() => isolateGone(first.nativeId), 30, 'the retired isolate to end');
    assert.is(Atomics.load(cells, 0), 0, 'what it left behind never ran: it ended with the isolate');
    await until(() => counts().busy === 0, 30, 'the retired isolate to leave the pool');
    assert.equal(counts(), { idle: 1, busy: 0, waiting: 0 });
  });
}

for (const kind of CLEAN_KINDS) {
  test(`an export that leaves nothing pending (${kind}): the next thread reuses its isolate`, async () => {
    await emptyPool();
    const first = await ended({ target: leftovers('leave'), args: [kind] });
    const next = await ended({ target: leftovers('count') });
    assert.equal([next.nativeId, next.result], [first.nativeId, 2], 'the same isolate, the module state kept');
  });
}

// --- nothing of one thread reaches the next ------------------------------------------------------

for (const [what, message] of [['throws', 'left by the first thread'], ['calls process.exit(5)', 'exit']]) {
  test(`a timer an earlier thread left, that ${what} later: the next thread runs to its own end, unharmed`, async () => {
    await emptyPool();
    const cells = cellsOf();
    const calls = await withExcepthook(async () => {
      const first = await ended({ name: 'leaver', target: leftovers('leaveTimer'), args: [cells.buffer, 100, message] });
      const g = gate();
      const next = new BackgroundThread({ name: 'next', target: leftovers('awaitGate'), args: [g.buffer] });
      next.start();
      await g.started();
      // Without the rule the next thread waits on the same isolate while the timer fires there.
      await until(() => Atomics.load(cells, 0) === 1 || isolateGone(first.nativeId), 30,
        'the timer to fire, or its isolate to end');
      g.release();
      assert.is(await next.join(), true);
      assert.is(next.exception, undefined, `the next thread's exception: ${next.exception}`);
      assert.is(next.result, 'its own result');
      assert.is(first.exception, undefined);
      assert.is(Atomics.load(cells, 0), 0, 'the timer never fired: it ended with its isolate');
    });
    assert.equal(calls.map((call) => call.thread.name), [], 'the excepthook was not called');
  });
}

test('a thread started while an earlier thread\'s leftover would be ending the isolate runs, on another one', async () => {
  // pool.mjs throwLater: the timer it leaves sets cell 2, blocks until cell 3 is set, then throws.
  // The timer may fire before the settling turn's end (then its error is the leaver's own, and
  // the leaver's join() waits for it) or never (its isolate retired first): not awaited here.
  await emptyPool();
  await withExcepthook(async (calls) => {
    const g = gate();
    const leaver = new BackgroundThread({ target: poolTarget('throwLater'), args: ['left behind', g.buffer] });
    leaver.start();
    await until(() => Atomics.load(g.cells, 2) === 1 || !leaver.isAlive(), 30,
      'the timer to run, or the leaver to end');
    const next = new BackgroundThread({ target: poolTarget('count') });
    next.start();
    Atomics.store(g.cells, 3, 1);
    Atomics.notify(g.cells, 3);
    assert.is(await leaver.join(), true);
    assert.is(await next.join(), true);
    assert.equal([next.result, next.exception], [1, undefined], 'it ran, on a fresh module');
    assert.is.not(next.nativeId, leaver.nativeId);
    assert.ok(calls.every((call) => call.thread === leaver), 'only the leaver\'s own error, if any');
  });
});

test('a rejection the export left unhandled is its thread\'s exception, before join() resolves; the isolate is not reused', async () => {
  await emptyPool();
  await withExcepthook(async (calls) => {
    const t = new BackgroundThread({ target: leftovers('leaveRejection'), args: ['nobody handled me'] });
    t.start();
    assert.is(await t.join(), true);
    const exceptionAtJoin = t.exception;
    assert.instance(exceptionAtJoin, Error);
    assert.is(exceptionAtJoin.message, 'nobody handled me');
    assert.is(calls.length, 1);
    assert.is(calls[0].thread, t);
    const next = await ended({ target: leftovers('count') });
    assert.is.not(next.nativeId, t.nativeId);
    assert.is(t.exception, exceptionAtJoin);
  });
});

// --- result and exception are final once join() resolves -----------------------------------------

test('function target: an error its leftover timer throws after join() resolved reaches the hook with the thread; exception stays undefined', async () => {
  let fired = false;
  await withExcepthook(async (calls) => {
    const t = new BackgroundThread({
      target: () => {
        setTimeout(() => { fired = true; throw new Error('after the end'); }, 20);
        return 'done';
      },
    });
    t.start();
    assert.is(await t.join(), true);
    await until(() => fired && calls.length === 1, 30, 'the leftover to throw');
    assert.is(calls[0].thread, t);
    assert.is(calls[0].excValue.message, 'after the end');
    assert.equal([t.result, t.exception], ['done', undefined], 'final since join() resolved');
  });
});

test('module target: an error of its leftovers after join() resolved (its isolate kept for a child thread) reaches the hook with the thread; exception stays undefined', async () => {
  await emptyPool();
  const cells = cellsOf();
  await withExcepthook(async (calls) => {
    const t = new BackgroundThread({ target: leftovers('startThread'), args: [cells.buffer, 60000, { throwAfterMs: 50 }] });
    t.start();
    assert.is(await t.join(), true);
    assert.equal([t.result, t.exception], [1, undefined]);
    await until(() => calls.length === 1, 30, 'the leftover timer to throw');
    assert.is(calls[0].thread, t, 'the thread whose export left it');
    assert.is(calls[0].excValue.message, 'leftover');
    assert.equal([t.result, t.exception], [1, undefined], 'final since join() resolved');
    await until(() => counts().busy === 0, 30, 'the isolate, ended by the uncaught error, to leave');
  });
});

// --- threads an export starts --------------------------------------------------------------------

const CHILD = `${IMPORT}
const LEFTOVERS = ${JSON.stringify(LEFTOVERS)};
const cells = new Int32Array(new SharedArrayBuffer(16));
`;

for (const isolate of ['warm', 'fresh']) {
  test(`a non-daemon thread an export started holds the creator's process open until it ends (${isolate} isolate)`, async () => {
    const r = await runChild(`${CHILD}
const t = new BackgroundThread({ target: { module: LEFTOVERS, export: 'startThread' }, args: [cells.buffer, 300], isolate: '${isolate}' });
t.start();
await t.join();
process.on('exit', (code) => console.log('EXIT', code, Atomics.load(cells, 1)));
console.log('JOINED', t.isAlive(), Atomics.load(cells, 1));
`, QUICK);
    assertExit(r, 0, ['JOINED false 0', 'the child thread ended', 'EXIT 0 1']);
  });
}

test('joinAll() waits for the non-daemon threads exports started, and for the module threads they started', async () => {
  const r = await runChild(`${CHILD}
const threads = [
  new BackgroundThread({ target: { module: LEFTOVERS, export: 'startThread' }, args: [cells.buffer, 300] }),
  new BackgroundThread({ target: { module: LEFTOVERS, export: 'startModuleThread' }, args: [cells.buffer, 300] }),
];
for (const t of threads) t.start();
console.log('JOIN 0', await joinAll(0), Atomics.load(cells, 1));
console.log('JOINED', await joinAll(), Atomics.load(cells, 1), threads.map((t) => t.isAlive()).join());
console.log('AGAIN', await joinAll(0));
`, QUICK);
  assertExit(r, 0, ['JOIN 0 false 0', 'the child thread ended', 'JOINED true 1 false,false', 'AGAIN true']);
});

test('joinAll(timeout) times out while an export\'s thread runs on', async () => {
  const r = await runChild(`${CHILD}
const t = new BackgroundThread({ target: { module: LEFTOVERS, export: 'startThread' }, args: [cells.buffer, 2000] });
t.start();
await t.join();
console.log('TIMED OUT', await joinAll(0.05), Atomics.load(cells, 1));
console.log('JOINED', await joinAll(), Atomics.load(cells, 1));
`, QUICK);
  assertExit(r, 0, ['TIMED OUT false 0', 'the child thread ended', 'JOINED true 1']);
});

test('a module thread started by an export holds the creator\'s process open until it ends', async () => {
  const r = await runChild(`${CHILD}
const t = new BackgroundThread({ target: { module: LEFTOVERS, export: 'startModuleThread' }, args: [cells.buffer, 300] });
t.start();
await t.join();
process.on('exit', (code) => console.log('EXIT', code, Atomics.load(cells, 1)));
console.log('JOINED', Atomics.load(cells, 1));
`, QUICK);
  assertExit(r, 0, ['JOINED 0', 'EXIT 0 1']);
});

test('a daemon thread an export started holds nothing open', async () => {
  const r = await runChild(`${CHILD}
const t = new BackgroundThread({ target: { module: LEFTOVERS, export: 'startThread' }, args: [cells.buffer, 120000, { daemon: true }] });
t.start();
await t.join();
console.log('JOINED', await joinAll(), Atomics.load(cells, 1));
process.on('exit', (code) => console.log('EXIT', code, Atomics.load(cells, 1)));
`, QUICK);
  assertExit(r, 0, ['JOINED true 0', 'EXIT 0 0']);
  assertPrompt(r);
});

test('an isolate whose threads of its own are alive is not handed the next thread', async () => {
  await emptyPool();
  const cells = cellsOf();
  const parent = await ended({ target: leftovers('startThread'), args: [cells.buffer, 300] });
  const next = await ended({ target: leftovers('count') });
  assert.is(Atomics.load(cells, 1), 0, 'the child still runs');
  assert.is.not(next.nativeId, parent.nativeId);
  assert.is(next.result, 1);
  await until(() => Atomics.load(cells, 1) === 1, 30, 'the child to end');
  if (linux) await until(() => isolateGone(parent.nativeId), 30, 'its isolate to end after it');
});

test.run();
