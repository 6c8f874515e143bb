// A function target's OS thread is reused: once its thread has finished it parks (named
// PARKED_NAME, at most maxParkedPerStackSize per stack size) until the next start() of its stack
// size takes it, its idle time runs out, or its event loop goes away. Each BackgroundThread
// stays a thread of its own: its ident, name, states and joins. Linux only (/proc shows it).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BackgroundThread } from 'background-thread';
import { assertExit, importHelpers, runChild } from './helpers/child.mjs';
import { limits, linux, PARKED_NAME, threadName } from './helpers/os-threads.mjs';
import { deferred } from './helpers/wait.mjs';

/** Starts and joins `n` threads one after the other; what each saw of itself. */
async function oneAfterAnother(n, options = {}) {
  const seen = [];
  for (let i = 0; i < n; i++) {
    const t = new BackgroundThread({
      name: `seq-${i}`, ...options,
      target: () => {
        seen.push({ ident: t.ident, nativeId: t.nativeId, name: threadName(t.nativeId) });
      },
    });
    t.start();
    assert.ok(await t.join(30), 'joined');
    seen.at(-1).after = threadName(seen.at(-1).nativeId);
  }
  return seen;
}

test('threads one after another reuse OS threads, each still a thread of its own', async () => {
  if (!linux) return;
  const seen = await oneAfterAnother(40);
  assert.is(new Set(seen.map((s) => s.ident)).size, 40, 'an ident each');
  assert.ok(new Set(seen.map((s) => s.nativeId)).size < 40, 'some OS threads carried more than one thread');
  seen.forEach((s, i) => {
    assert.is(s.name, `seq-${i}`, 'the OS thread carries the running thread\'s name');
    assert.ok(s.after === PARKED_NAME || s.after === null, `after join() no OS thread carries an ended thread's name (${s.after})`);
  });
});

test('an OS thread only carries threads of the stack size it was made with', async () => {
  if (!linux) return;
  const small = [];
  const big = [];
  for (let i = 0; i < 20; i++) {
    small.push(...await oneAfterAnother(1, { stackSize: 65536 }));
    big.push(...await oneAfterAnother(1));
  }
  const smallIds = new Set(small.map((s) => s.nativeId));
  const bigIds = new Set(big.map((s) => s.nativeId));
  assert.ok(smallIds.size < 20 && bigIds.size < 20, 'each size reused its own');
  assert.equal([...smallIds].filter((id) => bigIds.has(id)), [], 'no OS thread carried both sizes');
});

test(`at most maxParkedPerStackSize (${limits.maxParkedPerStackSize}) OS threads of one stack size are reused`, async () => {
  if (!linux) return;
  const batch = async () => {
    const gate = deferred();
    const threads = Array.from({ length: limits.maxParkedPerStackSize + 24 },
      () => new BackgroundThread({ target: () => gate.promise, stackSize: 131072 }));
    for (const t of threads) t.start();
    const ids = threads.map((t) => t.nativeId);
    gate.resolve();
    assert.equal(await Promise.all(threads.map((t) => t.join(30))), threads.map(() => true));
    return ids;
  };
  const first = new Set(await batch());
  const reused = (await batch()).filter((id) => first.has(id));
  assert.ok(reused.length <= limits.maxParkedPerStackSize, `${reused.length} reused`);
});

// In children: how parked OS threads end, with the idle time set by the environment.
const RUN_THREADS = `
async function runThreads(n) {
  const threads = Array.from({ length: n }, (_, i) => new BackgroundThread({ name: 'p' + i, target: () => new Promise((r) => setTimeout(r, 20)) }));
  for (const t of threads) t.start();
  const ids = threads.map((t) => t.nativeId);
  const joined = await Promise.all(threads.map((t) => t.join(30)));
  return { ids, joined: joined.every(Boolean) };
}
`;
const CHILD = importHelpers('os-threads.mjs', ['exited', 'parkedTasks', 'threadName']) +
  "import { BackgroundThread } from 'background-thread';\n" + RUN_THREADS;
// A Worker's eval source, valid both as a module (Node 20 and later run it as one here, the child
// having --input-type=module) and as a classic script (Node 18 does): dynamic imports only.
const WORKER_RUNS_THREADS = `(async () => {
  const { BackgroundThread } = await import('background-thread');
  ${RUN_THREADS}
  (await import('node:worker_threads')).parentPort.postMessage(await runThreads(4));
})();`;

async function child(source, idle, options) {
  return runChild(CHILD + source,
    { env: { BACKGROUND_THREAD_PARKED_IDLE_SECONDS: String(idle) }, timeout: 90000, ...options });
}

test('a parked OS thread ends once its idle time has passed', async () => {
  if (!linux) return;
  const r = await child(`
    const { ids, joined } = await runThreads(3);
    const parkedAfterJoin = ids.filter((id) => parkedTasks().includes(id)).length;
    console.log(JSON.stringify({ joined, parkedAfterJoin, ended: await exited(ids, 60) }));
  `, 0.5);
  assertExit(r, 0);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1));
  assert.ok(out.joined);
  assert.ok(out.parkedAfterJoin >= 1, 'joined threads left their OS threads parked');
  assert.ok(out.ended, 'the parked OS threads ended');
});

test('idle time 0: no OS thread parks, each thread has one of its own', async () => {
  if (!linux) return;
  const r = await child(`
    const ids = [];
    for (let i = 0; i < 10; i++) ids.push(...(await runThreads(1)).ids);
    console.log(JSON.stringify({ distinct: new Set(ids).size, parked: parkedTasks().length, ended: await exited(ids, 60) }));
  `, 0);
  assertExit(r, 0);
  assert.equal(JSON.parse(r.stdout.trim().split('\n').at(-1)), { distinct: 10, parked: 0, ended: true });
});

test('a Worker\'s end ends the OS threads it parked (the idle time is an hour)', async () => {
  if (!linux) return;
  const r = await child(`
    import { Worker } from 'node:worker_threads';
    const worker = new Worker(${JSON.stringify(WORKER_RUNS_THREADS)}, { eval: true });
    const [{ ids, joined }] = await Promise.all([new Promise((resolve) => worker.once('message', resolve)), new Promise((resolve) => worker.once('exit', resolve))]);
    console.log(JSON.stringify({ joined, ended: await exited(ids, 60) }));
  `, 3600);
  assertExit(r, 0);
  assert.equal(JSON.parse(r.stdout.trim().split('\n').at(-1)), { joined: true, ended: true });
});

test('parked OS threads never hold the process open, nor change its exit code', async () => {
  if (!linux) return;
  const natural = await child(`
    const { joined } = await runThreads(4);
    console.log(JSON.stringify({ joined, parked: parkedTasks().length }));
  `, 3600);
  assertExit(natural, 0);
  const out = JSON.parse(natural.stdout.trim().split('\n').at(-1));
  assert.ok(out.joined && out.parked >= 1, 'threads were parked at the end');
  const exit = await child(`
    await runThreads(4);
    process.exit(3);
  `, 3600);
  assertExit(exit, 3);
});

test('a bad BACKGROUND_THREAD_PARKED_IDLE_SECONDS is a RangeError from the first call that needs the loop', async () => {
  for (const bad of ['soon', '-1', 'NaN', '5s']) {
    const r = await child(`
      const errors = [];
      for (let i = 0; i < 2; i++) {
        try { new BackgroundThread({ target: () => {} }).start(); } catch (e) { errors.push({ name: e.name, code: e.code, message: e.message }); }
      }
      console.log(JSON.stringify(errors));
    `, bad);
    assertExit(r, 0);
    const errors = JSON.parse(r.stdout.trim().split('\n').at(-1));
    assert.is(errors.length, 2, `${bad}: every use throws, none starts a thread`);
    for (const error of errors) {
      assert.is(error.name, 'RangeError', bad);
      assert.is(error.code, 'ERR_INVALID_PARKED_IDLE_SECONDS');
      assert.match(error.message, /BACKGROUND_THREAD_PARKED_IDLE_SECONDS/);
    }
  }
});

test.run();
