// SPEC §3: the Python semantics, row by row, in this process.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AsyncLocalStorage } from 'node:async_hooks';
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { isMainThread, threadId } from 'node:worker_threads';
import {
  BackgroundThread, MainThread, activeCount, currentThread, enumerate, getExcepthook, excepthook,
  joinAll, mainThread, setExcepthook, stackSize, startNewBackgroundThread,
} from 'background-thread';
import { deferred, nextTurn } from './helpers/wait.mjs';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');

test('the target runs on the loop that called start(), on a later macrotask, never inside start()', async () => {
  let ranOn = null;
  const ran = deferred();
  const t = new BackgroundThread({ target: () => { ranOn = { isMainThread, threadId }; ran.resolve(); } });
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
  const ident = startNewBackgroundThread((a, b, kw) => seen.resolve({ ident: currentThread().ident, a, b, kw }), [1, 2], { k: 3 });
  assert.ok(Number.isSafeInteger(ident) && ident > 0);
  assert.equal(await seen.promise, { ident, a: 1, b: 2, kw: { k: 3 } });
  const me = enumerate().find((t) => t.ident === ident);
  if (me) await me.join();
});

test('idents are unique and never reused', async () => {
  const idents = new Set();
  for (let i = 0; i < 50; i++) {
    const t = new BackgroundThread({ target: () => {} });
    t.start();
    idents.add(t.ident);
    await t.join();
  }
  assert.is(idents.size, 50);
  assert.not.ok(idents.has(mainThread().ident));
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
  const written = [];
  const write = process.stderr.write;
  process.stderr.write = (chunk) => { written.push(String(chunk)); return true; };
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
    process.stderr.write = write;
    setExcepthook(null);
  }
  const text = written.join('');
  assert.match(text, /Exception in threading\.excepthook:\n(Error: )?hook broke/);
  assert.match(text, /Exception in threading\.excepthook:\n(Error: )?async hook broke/);
});

test('the default hook writes "Exception in thread NAME:" and the stack to stderr', async () => {
  const written = [];
  const write = process.stderr.write;
  process.stderr.write = (chunk) => { written.push(String(chunk)); return true; };
  try {
    const t = new BackgroundThread({ name: 'mailer', target: function sendMail() { throw new Error('smtp down'); } });
    t.start();
    await t.join();
  } finally {
    process.stderr.write = write;
  }
  assert.match(written.join(''), /^Exception in thread mailer:\nError: smtp down\n\s+at sendMail/);
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
        await new Promise((resolve) => setTimeout(resolve, 5));
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

test('daemon defaults to the current thread\'s flag: false at top level, inherited inside', async () => {
  assert.is(new BackgroundThread().daemon, false);
  const inherited = deferred();
  const outer = new BackgroundThread({
    daemon: true,
    target: () => {
      const child = new BackgroundThread();
      const explicit = new BackgroundThread({ daemon: false });
      inherited.resolve([child.daemon, child.isDaemon(), explicit.daemon]);
    },
  });
  outer.start();
  // Awaiting the join (not only the promise) holds the loop: a daemon thread never does.
  await outer.join();
  assert.equal(await inherited.promise, [true, true, false]);
  assert.is(new BackgroundThread({ daemon: null }).is_daemon(), false);
});

test('join(timeout) and joinAll(timeout) count from the call, even after long synchronous work', async () => {
  const gate = deferred();
  const t = new BackgroundThread({ target: () => gate.promise });
  t.start();
  await nextTurn();
  try {
    // The loop's cached time now lags by 600 ms; a timer started from it would fire ~600 ms early.
    for (const busyUntil = performance.now() + 600; performance.now() < busyUntil;);
    let begun = performance.now();
    assert.is(await t.join(0.5), false);
    assert.ok(performance.now() - begun >= 490, `join(0.5) gave up after ${Math.round(performance.now() - begun)} ms`);
    for (const busyUntil = performance.now() + 600; performance.now() < busyUntil;);
    begun = performance.now();
    assert.is(await joinAll(0.5), false);
    assert.ok(performance.now() - begun >= 490, `joinAll(0.5) gave up after ${Math.round(performance.now() - begun)} ms`);
  } finally {
    gate.resolve();
  }
  assert.is(await t.join(), true);
});

test('join: many joiners all see the end; timeouts are seconds; negative polls; null/Infinity wait', async () => {
  const gate = deferred();
  const t = new BackgroundThread({ target: () => gate.promise });
  t.start();
  await nextTurn();
  const begun = performance.now();
  assert.is(await t.join(0.03), false);
  assert.ok(performance.now() - begun >= 25, 'a timeout in seconds, not milliseconds');
  assert.is(await t.join(0), false);
  assert.is(await t.join(-5), false, 'negative is a poll');
  const joiners = [t.join(), t.join(null), t.join(Infinity), t.join(60), t.join(undefined)];
  await nextTurn();
  gate.resolve();
  assert.equal(await Promise.all(joiners), [true, true, true, true, true]);
  assert.is(await t.join(0), true, 'an ended thread joins at once');
  assert.is(await t.join(-1), true);
});

test('joinSync waits natively for a thread whose target has settled', async () => {
  const ran = deferred();
  const t = new BackgroundThread({ target: () => { ran.resolve(); } });
  t.start();
  await ran.promise;
  assert.is(t.joinSync(10), true);
  assert.is(t.isAlive(), false, 'isAlive() is false once joinSync returned true');
  assert.is(t.joinSync(), true, 'joining an ended thread again is true at once');
  assert.is(await t.join(), true);
});

test('the thread has settled by the time code awaiting the Promise its target returned resumes', async () => {
  for (const make of [
    (gate) => gate.promise,                                  // a Promise made elsewhere
    (gate) => (async () => { await gate.promise; })(),       // an async function's Promise
    (gate) => gate.promise.then(() => {}),                   // a derived Promise
  ]) {
    const gate = deferred();
    const ran = deferred();
    const t = new BackgroundThread({ target: () => { const p = make(gate); ran.resolve([p]); return p; } });
    t.start();
    const [returned] = await ran.promise;
    setTimeout(gate.resolve, 5);
    await returned;
    assert.is(t.joinSync(10), true, 'joinSync right after the await: no ERR_JOIN_WOULD_DEADLOCK');
  }
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
      await new Promise((resolve) => setTimeout(resolve, 5));
      this.result = `ran as ${currentThread().name}`;
    }
  }
  const t = new Report({ name: 'report' });
  t.start();
  assert.is(await t.join(), true);
  assert.is(t.result, 'ran as report');
  assert.match(String(t), /^<Report\(report, stopped \d+\)>$/);
});

test('names: Thread-N counts from 1 and never repeats; the target\'s name is appended', () => {
  const a = new BackgroundThread();
  const b = new BackgroundThread({ target: function fetchFeed() {} });
  const c = new BackgroundThread({ name: '' });
  const [na, nb, nc] = [a, b, c].map((t) => /^Thread-(\d+)/.exec(t.name)[1]).map(Number);
  assert.ok(nb === na + 1 && nc === nb + 1, 'consecutive, never reused');
  assert.is(b.name, `Thread-${nb} (fetchFeed)`);
  assert.is(new BackgroundThread({ name: 7 }).name, '7');
  assert.match(new BackgroundThread({ name: [] }).name, /^Thread-\d+$/, 'a name that prints as nothing is no name');
  function report() {}
  assert.match(new BackgroundThread({ target: report.bind(null) }).name, /^Thread-\d+ \(report\)$/, 'a bound function: the bound one');
  assert.match(new BackgroundThread({ target: (() => {}).bind(null) }).name, /^Thread-\d+$/, 'anonymous bound: no "(bound )"');
  assert.match(new BackgroundThread({ target: { module: '/tmp/my report é.mjs' } }).name, /^Thread-\d+ \(my report é\.mjs\)$/,
    'a module target: its file name as written, not percent-encoded');
  const t = new BackgroundThread({ name: 'x' });
  t.name = 42;
  assert.is(t.getName(), '42');
  t.setName('y');
  assert.is(t.name, 'y');
});

test('the OS thread carries the name, truncated to 15 bytes on a UTF-8 boundary (Linux)', async () => {
  if (process.platform !== 'linux') return;
  const gate = deferred();
  const names = ['mailer', 'a-very-long-thread-name-indeed', 'ñññññññññ'];
  const threads = names.map((name) => new BackgroundThread({ name, target: () => gate.promise }));
  for (const t of threads) t.start();
  const comm = threads.map((t) => readFileSync(`/proc/self/task/${t.nativeId}/comm`, 'utf8').trimEnd());
  gate.resolve();
  for (const t of threads) await t.join();
  assert.equal(comm, ['mailer', 'a-very-long-thr', 'ñññññññ']);
});

test('toString: <ClassName(name, initial|started|stopped[ daemon][ ident])>', async () => {
  const gate = deferred();
  const t = new BackgroundThread({ name: 'w', daemon: true, target: () => gate.promise });
  assert.is(String(t), '<BackgroundThread(w, initial daemon)>');
  t.start();
  assert.is(String(t), `<BackgroundThread(w, started daemon ${t.ident})>`);
  gate.resolve();
  await t.join();
  assert.is(`${t}`, `<BackgroundThread(w, stopped daemon ${t.ident})>`);
  assert.match(String(mainThread()), /^<MainThread\(MainThread, started \d+\)>$/);
});

test('mainThread, currentThread, enumerate and activeCount', async () => {
  const main = mainThread();
  assert.instance(main, MainThread);
  assert.is(main, mainThread());
  assert.is(currentThread(), main);
  assert.is(main.name, 'MainThread');
  assert.is(main.daemon, false);
  assert.is(main.isAlive(), true);
  assert.is(main.nativeId, process.pid, 'on Linux the main thread\'s tid is the pid');
  const base = activeCount();
  const gate = deferred();
  const t = new BackgroundThread({ target: () => gate.promise });
  assert.not.ok(enumerate().includes(t), 'not before start');
  t.start();
  assert.ok(enumerate().includes(t));
  assert.is(enumerate()[0], main);
  assert.is(activeCount(), base + 1);
  gate.resolve();
  await t.join();
  assert.not.ok(enumerate().includes(t), 'not after the end');
  assert.is(activeCount(), base);
});

test('joinAll waits for every live non-daemon thread, not daemon ones, with a timeout', async () => {
  const slow = deferred();
  const forever = deferred();
  const done = [];
  const a = new BackgroundThread({ target: async () => { await slow.promise; done.push('a'); } });
  const d = new BackgroundThread({ daemon: true, target: () => forever.promise });
  a.start();
  d.start();
  assert.is(await joinAll(0.02), false, 'times out while a non-daemon thread runs');
  setTimeout(() => slow.resolve(), 10);
  assert.is(await joinAll(), true);
  assert.equal(done, ['a']);
  assert.is(d.isAlive(), true, 'daemon threads are not waited for');
  forever.resolve();
  await d.join();
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

test.run();
