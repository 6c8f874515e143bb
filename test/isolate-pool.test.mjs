// Warm isolates (src/isolate/pool.ts): a module thread runs on an idle isolate of this loop when
// there is one, with the module state earlier threads left there and its own identity, and
// `isolate: 'fresh'` on one of its own; maxIdle and idleTimeout trim the idle ones, maxIsolates
// queues (and holds when lowered); setIsolatePool() checks its input. Which isolate a thread ran
// on is its nativeId (the isolate's OS thread); a module's state is pool.mjs's counter. Each test
// starts from an empty pool (other files leave idle isolates) and the settings are reset after
// it. Isolates that die, exit and teardown: test/isolate-pool-ends.test.mjs; results and
// exceptions: test/thread-results.test.mjs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { BackgroundThread, RuntimeError, enumerate, isolatePool, setIsolatePool } from 'background-thread';
import { throwsTyped } from './helpers/errors.mjs';
import {
  burst, counts, emptyPool, ended, gate, poolTarget, releaseAll, sleep, until,
} from './helpers/isolates.mjs';
import { gone, linux } from './helpers/os-threads.mjs';

const comm = (nativeId) => readFileSync(`/proc/self/task/${nativeId}/comm`, 'utf8').trim();
const truncated = (name) => Buffer.from(name).subarray(0, 15).toString();

test.after.each(releaseAll);

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

// --- maxIdle and idleTimeout ---------------------------------------------------------------------

test('maxIdle: 1, idleTimeout: 0: a burst of 3 leaves 1 idle isolate, the most recently used; the others end', async () => {
  await emptyPool();
  setIsolatePool({ maxIdle: 1, idleTimeout: 0 });
  const threads = await burst(3);
  assert.equal(counts(), { idle: 1, busy: 0, waiting: 0 });
  const ids = threads.map((t) => t.nativeId);
  if (linux) assert.ok(await gone(ids.slice(0, 2), 30), 'the two least recently used isolates ended');
  const next = await ended({ target: poolTarget('count') });
  assert.equal([next.nativeId, next.result], [ids[2], 2], 'the kept one is the last to have ended');
});

test('idleTimeout: idle isolates beyond maxIdle are ended once unused that long, down to maxIdle, and not below', async () => {
  await emptyPool();
  setIsolatePool({ maxIdle: 1, idleTimeout: 0.2 });
  const threads = await burst(3);
  assert.ok(counts().idle >= 1, `idle right after the burst: ${counts().idle}`);
  await until(() => counts().idle === 1, 30, 'the idle timeout to end the extra isolates');
  await sleep(500);  // several timeouts more
  assert.equal(counts(), { idle: 1, busy: 0, waiting: 0 }, 'maxIdle isolates are kept without a time limit');
  const next = await ended({ target: poolTarget('count') });
  assert.is(next.nativeId, threads[2].nativeId, 'the most recently used one was kept');
});

test('new limits take effect at once: a long idleTimeout keeps a burst, lowering it or maxIdle ends the extra ones', async () => {
  await emptyPool();
  let state = setIsolatePool({ maxIdle: 1, idleTimeout: 3600 });
  assert.equal([state.maxIdle, state.idleTimeout], [1, 3600], 'setIsolatePool returns the settings now in force');
  await burst(3);
  assert.equal(counts(), { idle: 3, busy: 0, waiting: 0 }, 'kept: an hour is not over');
  state = setIsolatePool({ idleTimeout: 0.2 });
  assert.equal([state.maxIdle, state.idleTimeout], [1, 0.2], 'an omitted key keeps its value');
  await until(() => counts().idle === 1, 30, 'the lowered idle timeout');
  state = setIsolatePool({ maxIdle: 3, idleTimeout: 0 });
  await burst(3);
  assert.equal(counts(), { idle: 3, busy: 0, waiting: 0 }, 'a raised maxIdle keeps all three');
  state = setIsolatePool({ maxIdle: 1 });
  assert.is(state.idle, 1, 'lowering maxIdle with idleTimeout 0 ends the extra ones at once');
  assert.equal(counts(), { idle: 1, busy: 0, waiting: 0 });
  state = setIsolatePool({ maxIdle: 0, idleTimeout: Infinity });
  assert.is(state.idle, 1, 'idleTimeout Infinity: kept, unused for ever');
  state = setIsolatePool({ idleTimeout: 0 });
  assert.is(state.idle, 0);
});

// --- maxIsolates -------------------------------------------------------------------------------

test('maxIsolates: 1: of 3 threads one runs, 2 wait (alive, nativeId null, joinSync refuses); all end in order', async () => {
  await emptyPool();
  assert.is(setIsolatePool({ maxIsolates: 1 }).maxIsolates, 1);
  const g = gate();
  const threads = [[g.buffer], [], []].map((args, i) =>
    new BackgroundThread({ name: `capped-${i}`, target: poolTarget('count'), args }));
  for (const t of threads) t.start();
  assert.ok(threads.every((t) => t.isAlive()), 'start() returned with every thread alive');
  assert.ok(threads.every((t) => enumerate().includes(t)));
  assert.equal(counts(), { idle: 0, busy: 1, waiting: 2 });
  await g.started();
  assert.ok(Number.isSafeInteger(threads[0].nativeId));
  for (const t of threads.slice(1)) {
    assert.is(t.nativeId, null, 'a waiting thread has no OS thread yet');
    throwsTyped(() => t.joinSync(1), RuntimeError, 'ERR_JOIN_WOULD_DEADLOCK', `${t.name}.joinSync(1)`);
    throwsTyped(() => t.joinSync(), RuntimeError, 'ERR_JOIN_WOULD_DEADLOCK', `${t.name}.joinSync()`);
    assert.is(t.joinSync(0), false);
    assert.is(await t.join(0.05), false, 'it cannot have run: the one isolate is held');
    assert.ok(t.isAlive());
  }
  const order = [];
  const joins = threads.map((t, i) => t.join().then((joined) => { order.push(i); return joined; }));
  g.release();
  assert.equal(await Promise.all(joins), [true, true, true]);
  assert.equal(order, [0, 1, 2]);
  assert.equal(threads.map((t) => t.result), [1, 2, 3], 'one after the other, on the one isolate');
  assert.is(new Set(threads.map((t) => t.nativeId)).size, 1);
  assert.equal(counts(), { idle: 1, busy: 0, waiting: 0 });
});

test('raising maxIsolates starts the waiting threads at once, on new isolates, while the first still runs', async () => {
  await emptyPool();
  setIsolatePool({ maxIsolates: 1 });
  const gates = [gate(), gate(), gate()];
  const threads = gates.map((g) => new BackgroundThread({ target: poolTarget('count'), args: [g.buffer] }));
  for (const t of threads) t.start();
  await gates[0].started();
  assert.equal(counts(), { idle: 0, busy: 1, waiting: 2 });
  const state = setIsolatePool({ maxIsolates: 3 });
  assert.equal([state.busy, state.waiting], [3, 0]);
  await gates[1].started();
  await gates[2].started();
  assert.is(new Set(threads.map((t) => t.nativeId)).size, 3, 'three isolates, all running');
  for (const g of gates) g.release();
  assert.equal(await Promise.all(threads.map((t) => t.join())), [true, true, true]);
  assert.equal(threads.map((t) => t.result), [1, 1, 1], 'each module loaded on its own isolate');
});

test('lowering maxIsolates holds: idle isolates beyond it end at once, and busy ones end rather than take waiting threads', async () => {
  await emptyPool();
  const warm = await burst(3);
  assert.equal(counts(), { idle: 3, busy: 0, waiting: 0 });
  let state = setIsolatePool({ maxIsolates: 1 });
  assert.equal([state.idle, state.busy], [1, 0], 'the idle isolates beyond the cap ended at once');
  const gates = [gate(), gate(), gate()];
  const threads = gates.map((g) => new BackgroundThread({ target: poolTarget('count'), args: [g.buffer] }));
  for (const t of threads) t.start();
  assert.equal(counts(), { idle: 0, busy: 1, waiting: 2 }, 'one runs, on the kept isolate');
  await gates[0].started();
  assert.is(threads[0].nativeId, warm[2].nativeId, 'the most recently used was kept');
  // Three running, then the cap lowered to 1: as they end, no waiting thread takes their isolate.
  setIsolatePool({ maxIsolates: 3 });
  await gates[1].started();
  await gates[2].started();
  const more = [gate(), gate()];
  const waiting = more.map((g) => new BackgroundThread({ target: poolTarget('count'), args: [g.buffer] }));
  setIsolatePool({ maxIsolates: 1 });
  for (const t of waiting) t.start();
  assert.equal(counts(), { idle: 0, busy: 3, waiting: 2 });
  gates[0].release();
  assert.is(await threads[0].join(), true);
  gates[1].release();
  assert.is(await threads[1].join(), true);
  assert.equal(counts(), { idle: 0, busy: 1, waiting: 2 }, 'over the cap, the isolates of ended threads ended');
  assert.is(await waiting[0].join(0.05), false, 'no waiting thread ran');
  assert.is(Atomics.load(more[0].cells, 0), 0);
  gates[2].release();
  for (const g of more) g.release();
  assert.equal(await Promise.all(waiting.map((t) => t.join())), [true, true]);
  assert.is(await threads[2].join(), true);
  assert.is(new Set(waiting.map((t) => t.nativeId)).add(threads[2].nativeId).size, 1, 'all on the one isolate left');
  assert.equal(counts(), { idle: 1, busy: 0, waiting: 0 });
});

test("fresh isolates are outside maxIsolates: isolate: 'fresh' runs at once while the cap is reached", async () => {
  await emptyPool();
  setIsolatePool({ maxIsolates: 1 });
  const g = gate();
  const held = new BackgroundThread({ target: poolTarget('count'), args: [g.buffer] });
  held.start();
  await g.started();
  const fresh = await ended({ target: poolTarget('count'), isolate: 'fresh' });
  assert.is(fresh.result, 1);
  assert.is.not(fresh.nativeId, held.nativeId);
  assert.equal(counts(), { idle: 0, busy: 1, waiting: 0 });
  g.release();
  assert.is(await held.join(), true);
});

// --- setIsolatePool() checks its input -----------------------------------------------------------

test('setIsolatePool: bad input throws typed errors and changes nothing, not even the valid keys beside it', async () => {
  await emptyPool();
  const before = isolatePool();
  const cases = [
    [undefined, TypeError, 'ERR_INVALID_ARG_TYPE'],
    [null, TypeError, 'ERR_INVALID_ARG_TYPE'],
    [5, TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['maxIdle', TypeError, 'ERR_INVALID_ARG_TYPE'],
    [{ maxIdel: 1 }, TypeError, 'ERR_INVALID_ARG_VALUE'],
    [{ maxIdle: 1, maxThreads: 2 }, TypeError, 'ERR_INVALID_ARG_VALUE'],
    [{ maxIdle: '1' }, TypeError, 'ERR_INVALID_ARG_TYPE'],
    [{ maxIdle: null }, TypeError, 'ERR_INVALID_ARG_TYPE'],
    [{ maxIdle: -1 }, RangeError, 'ERR_OUT_OF_RANGE'],
    [{ maxIdle: NaN }, RangeError, 'ERR_OUT_OF_RANGE'],
    [{ maxIdle: 1.5 }, RangeError, 'ERR_OUT_OF_RANGE'],
    [{ maxIdle: -Infinity }, RangeError, 'ERR_OUT_OF_RANGE'],
    [{ maxIsolates: 0 }, RangeError, 'ERR_OUT_OF_RANGE'],
    [{ maxIsolates: -2 }, RangeError, 'ERR_OUT_OF_RANGE'],
    [{ maxIsolates: 2.5 }, RangeError, 'ERR_OUT_OF_RANGE'],
    [{ maxIsolates: NaN }, RangeError, 'ERR_OUT_OF_RANGE'],
    [{ maxIsolates: 2n }, TypeError, 'ERR_INVALID_ARG_TYPE'],
    [{ idleTimeout: -0.5 }, RangeError, 'ERR_OUT_OF_RANGE'],
    [{ idleTimeout: NaN }, RangeError, 'ERR_OUT_OF_RANGE'],
    [{ idleTimeout: -Infinity }, RangeError, 'ERR_OUT_OF_RANGE'],
    [{ idleTimeout: '10' }, TypeError, 'ERR_INVALID_ARG_TYPE'],
    [{ maxIdle: 7, idleTimeout: -1 }, RangeError, 'ERR_OUT_OF_RANGE'],
    [{ maxIdle: 7, maxIsolates: 0 }, RangeError, 'ERR_OUT_OF_RANGE'],
    [{ idleTimeout: 5, maxIdle: 'x' }, TypeError, 'ERR_INVALID_ARG_TYPE'],
  ];
  for (const [options, Type, code] of cases) {
    if (typeof options === 'object' && options !== null && 'maxIsolates' in options && Type === RangeError) {
      // One range, one message: 0 is refused as -2 is (not "must be non-negative" for -2).
      assert.throws(() => setIsolatePool(options), (error) =>
        /"maxIsolates" argument must be a positive integer or Infinity/.test(error.message), JSON.stringify(options));
    }
    const what = `setIsolatePool(${typeof options === 'object' && options !== null
      ? JSON.stringify(options, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : typeof v === 'bigint' ? `${v}n` : v))
      : String(options)})`;
    throwsTyped(() => setIsolatePool(options), Type, code, what);
    assert.equal(isolatePool(), before, `${what} changed nothing`);
  }
});

test('setIsolatePool: the limits of each range are accepted; isolatePool() is a copy', () => {
  for (const options of [{ maxIdle: 0 }, { maxIdle: Infinity }, { idleTimeout: 0 },
    { idleTimeout: Infinity }, { maxIsolates: 1 }, { maxIsolates: Infinity },
    { maxIdle: 3, idleTimeout: 1.5, maxIsolates: 4 }]) {
    const state = setIsolatePool(options);
    for (const [key, value] of Object.entries(options)) {
      assert.is(state[key], value, JSON.stringify(options));
    }
  }
  assert.equal(setIsolatePool({}), isolatePool(), '{} changes nothing');
  const state = isolatePool();
  state.maxIdle = 99;
  assert.is(isolatePool().maxIdle, 3);
});

test.run();
