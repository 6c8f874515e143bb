// The Python semantics of starting a thread and running its target, in this process: the target
// runs on the loop that called start(), on a later macrotask, with its args spread and kwargs
// last; start() returns once the OS thread runs; an async target or a thenable keeps the thread
// alive until it settles; its exceptions and rejections go to the excepthook with the thread
// (a broken hook is reported, the default one prints to stderr); it runs in its own async
// context; run() can be overridden and drops its references; stackSize() sizes later threads.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AsyncLocalStorage } from 'node:async_hooks';
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { isMainThread, threadId } from 'node:worker_threads';
import {
  BackgroundThread, currentThread, enumerate, excepthook, getExcepthook, mainThread, setExcepthook,
  stackSize, startNewBackgroundThread,
} from 'background-thread';
import { stderrOf } from './helpers/stderr.mjs';
import { deferred, nextTurn, sleep } from './helpers/wait.mjs';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');

test('the target runs on the loop that called start(), on a later macrotask, never inside start()', async () => {
  let ranOn = null;
  const ran = deferred();
  const t = new BackgroundThread({
    target: () => { ranOn = { isMainThread, threadId }; ran.resolve(); },
  });
  t.start();
  assert.is(ranOn, null, 'not inside start()');
  await Promise.resolve();
  await Promise.resolve();
  assert.is(ranOn, null, 'not in a microtask of the caller either');
  await ran.promise;
  assert.equal(ranOn, { isMainThread: true, threadId: 0 });
  await t.join();
});

test('start() returns once the OS thread runs: alive, ident and nativeId set at once', async () => {
  const t = new BackgroundThread({ target: () => {} });
  assert.is(t.ident, null);
  assert.is(t.nativeId, null);
  assert.is(t.isAlive(), false);
  t.start();
  assert.is(t.isAlive(), true);
  assert.is(t.is_alive(), true);
  assert.ok(Number.isSafeInteger(t.ident) && t.ident > 0);
  assert.ok(Number.isSafeInteger(t.nativeId) && t.nativeId > 0);
  assert.is.not(t.nativeId, process.pid, 'its own kernel thread, not the main one');
  if (process.platform === 'linux') {
    assert.ok(readFileSync(`/proc/self/task/${t.nativeId}/stat`, 'utf8').length > 0, 'the kernel knows it');
  }
  await t.join();
  assert.is(t.isAlive(), false);
  assert.ok(t.ident > 0 && t.nativeId > 0, 'ident and nativeId stay after the end');
});

test('startNewBackgroundThread returns the thread\'s ident, which currentThread() inside sees', async () => {
  const seen = deferred();
  const ident = startNewBackgroundThread((a, b, kw) =>
    seen.resolve({ ident: currentThread().ident, a, b, kw }), [1, 2], { k: 3 });
  assert.ok(Number.isSafeInteger(ident) && ident > 0);
  assert.equal(await seen.promise, { ident, a: 1, b: 2, kw: { k: 3 } });
  const me = enumerate().find((t) => t.ident === ident);
  if (me) await me.join();
});

test('args are spread, kwargs passed as one trailing argument only when given', async () => {
  const calls = [];
  const record = (...received) => { calls.push(received); };
  const threads = [
    new BackgroundThread({ target: record, args: [1, 'two'] }),
    new BackgroundThread({ target: record, args: new Set([3]), kwargs: { x: 1 } }),
    new BackgroundThread({ target: record }),
    new BackgroundThread(null, record, 'positional', [4], { y: 2 }),
  ];
  for (const t of threads) { t.start(); await t.join(); }
  assert.equal(calls, [[1, 'two'], [3, { x: 1 }], [], [4, { y: 2 }]]);
});

test('an async target keeps the thread alive until its Promise settles', async () => {
  const gate = deferred();
  const t = new BackgroundThread({ target: async () => { await gate.promise; } });
  t.start();
  await nextTurn();
  assert.is(t.isAlive(), true);
  assert.is(await t.join(0.05), false, 'join times out while the Promise is pending');
  assert.is(t.isAlive(), true);
  gate.resolve();
  assert.is(await t.join(), true);
  assert.is(t.isAlive(), false);
});

test('a thenable that is not a Promise is waited for too', async () => {
  let settle;
  const thenable = { then(resolve) { settle = resolve; } };
  const t = new BackgroundThread({ target: () => thenable });
  t.start();
  await nextTurn();
  await nextTurn();
  assert.is(await t.join(0.02), false);
  settle();
  assert.is(await t.join(), true);
});

test('the target runs outside the creator\'s AsyncLocalStorage context, inside its own', async () => {
  const als = new AsyncLocalStorage();
  const seen = deferred();
  let t;
  als.run('request-42', () => {
    t = new BackgroundThread({
      target: async () => {
        const before = als.getStore();
        const selfBefore = currentThread();
        await sleep(5);
        const inner = als.run('inner', async () => { await null; return als.getStore(); });
        seen.resolve({ before, selfBefore, selfAfter: currentThread(), inner: await inner });
      },
    });
    t.start();
  });
  const { before, selfBefore, selfAfter, inner } = await seen.promise;
  assert.is(before, undefined, 'the creator\'s store is not visible');
  assert.is(selfBefore, t);
  assert.is(selfAfter, t, 'currentThread() follows the target across awaits');
  assert.is(inner, 'inner', 'the target can use AsyncLocalStorage itself');
  assert.is(currentThread(), mainThread(), 'the creator is still the main thread');
  await t.join();
});

test('the default run() drops its references to target, args and kwargs', async () => {
  let target = () => {};
  let args = [{ big: new Array(1000).fill(1) }];
  let kwargs = { k: {} };
  const refs = [new WeakRef(target), new WeakRef(args[0]), new WeakRef(kwargs.k)];
  const t = new BackgroundThread({ target, args, kwargs });
  target = args = kwargs = null;
  t.start();
  await t.join();
  for (let i = 0; i < 3 && refs.some((r) => r.deref() !== undefined); i++) {
    await nextTurn();
    gc();
  }
  assert.equal(refs.map((r) => r.deref()), [undefined, undefined, undefined]);
  assert.is(t.isAlive(), false, 'the thread itself stays usable');
});

test('a subclass overriding run() is what the thread runs, async included', async () => {
  class Report extends BackgroundThread {
    result = null;
    async run() {
      await sleep(5);
      this.result = `ran as ${currentThread().name}`;
    }
  }
  const t = new Report({ name: 'report' });
  t.start();
  assert.is(await t.join(), true);
  assert.is(t.result, 'ran as report');
  assert.match(String(t), /^<Report\(report, stopped \d+\)>$/);
});

test('stackSize(): returns the previous value and sizes threads started afterwards', async () => {
  assert.is(stackSize(), 0);
  assert.is(stackSize(64 * 1024), 0);
  assert.is(stackSize(), 64 * 1024);
  const t = new BackgroundThread({ target: () => {} });
  t.start();
  assert.is(await t.join(), true);
  const big = new BackgroundThread({ target: () => {}, stackSize: 2 ** 30 });
  big.start();
  assert.is(await big.join(), true);
  assert.is(stackSize(0), 64 * 1024);
  stackSize(-0);
  assert.ok(Object.is(stackSize(), 0), 'stackSize(-0) is 0, not -0');
});

test('exceptions and rejections go to the excepthook with ExceptHookArgs, never elsewhere', async () => {
  const seen = [];
  const onUncaught = (e) => seen.push(['uncaughtException', e]);
  const onUnhandled = (e) => seen.push(['unhandledRejection', e]);
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUnhandled);
  setExcepthook((args) => seen.push(args));
  try {
    const boom = new TypeError('boom');
    const a = new BackgroundThread({ name: 'thrower', target: () => { throw boom; } });
    const b = new BackgroundThread({ name: 'rejecter', target: async () => { await null; throw new RangeError('later'); } });
    const c = new BackgroundThread({ name: 'stringer', target: () => { throw 'just a string'; } });
    for (const t of [a, b, c]) t.start();
    for (const t of [a, b, c]) assert.is(await t.join(), true, 'the thread still ends');
    await nextTurn();
    assert.is(seen.length, 3, 'one hook call per thread and nothing else');
    const byName = Object.fromEntries(seen.map((args) => [args.thread?.name, args]));
    assert.is(byName.thrower.excType, TypeError);
    assert.is(byName.thrower.excValue, boom);
    assert.is(byName.thrower.excTraceback, boom.stack);
    assert.is(byName.thrower.thread, a);
    assert.is(byName.rejecter.excType, RangeError);
    assert.match(byName.rejecter.excTraceback, /later/);
    assert.is(byName.stringer.excType, String);
    assert.is(byName.stringer.excValue, 'just a string');
    assert.is(byName.stringer.excTraceback, undefined);
  } finally {
    setExcepthook(null);
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUnhandled);
  }
  assert.is(getExcepthook(), excepthook, 'null restores the default');
});

test('a hook that throws or rejects reports "Exception in threading.excepthook:" and goes on', async () => {
  const text = await stderrOf(async () => {
    try {
      setExcepthook(() => { throw new Error('hook broke'); });
      let t = new BackgroundThread({ target: () => { throw new Error('first'); } });
      t.start();
      await t.join();
      setExcepthook(async () => { throw new Error('async hook broke'); });
      t = new BackgroundThread({ target: () => { throw new Error('second'); } });
      t.start();
      await t.join();
      await nextTurn();
    } finally {
      setExcepthook(null);
    }
  });
  assert.match(text, /Exception in threading\.excepthook:\n(Error: )?hook broke/);
  assert.match(text, /Exception in threading\.excepthook:\n(Error: )?async hook broke/);
});

test('the default hook writes "Exception in thread NAME:" and the stack to stderr', async () => {
  const text = await stderrOf(async () => {
    const t = new BackgroundThread({ name: 'mailer', target: function sendMail() { throw new Error('smtp down'); } });
    t.start();
    await t.join();
  });
  assert.match(text, /^Exception in thread mailer:\nError: smtp down\n\s+at sendMail/);
});

test.run();
