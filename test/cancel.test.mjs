// Cancellation (thread.cancel(reason), the signal option) of function and module targets: before
// start, queued, running, settling, after the end; a module target that ignores its signal is
// terminated after its grace period and its isolate not reused. Remote threads:
// test/remote-cancel.test.mjs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BackgroundThread, ThreadCancelledError, currentThread, getExcepthook, isolatePool, setExcepthook,
  setIsolatePool,
} from 'background-thread';
import { markers } from './helpers/remote.mjs';
import { deferred, nextTurn, until, withTimeout } from './helpers/wait.mjs';

const FIXTURE = new URL('./fixtures/module-targets/cancel.mjs', import.meta.url).href;
const module = (exportName, options = {}) =>
  new BackgroundThread({ target: { module: FIXTURE, export: exportName }, ...options });
const dir = markers();
let n = 0;
const marker = () => join(dir, `m${++n}`);

async function withHook(body) {
  const seen = [];
  const previous = getExcepthook();
  setExcepthook((args) => { seen.push(args.excValue); });
  try { await body(seen); } finally { setExcepthook(previous); }
  return seen;
}

function assertCancelled(t, cause) {
  assert.instance(t.exception, ThreadCancelledError);
  assert.is(t.exception.name, 'AbortError');
  assert.is(t.exception.code, 'ERR_THREAD_CANCELLED');
  assert.is(t.exception.cause, cause);
  assert.is(t.result, undefined);
}

test('function target: cancel() while it runs aborts its signal; it ends cancelled, what it returned after is dropped', async () => {
  let sawReason;
  const began = deferred();
  const t = new BackgroundThread({
    target: async () => {
      const { signal } = currentThread();
      began.resolve();
      await new Promise((resolve) => { signal.addEventListener('abort', resolve); });
      sawReason = signal.reason;
      return 'late result';
    },
  });
  const seen = await withHook(async () => {
    t.start();
    await began.promise;
    assert.is(t.signal.aborted, false);
    assert.is(t.cancel('user asked'), true);
    assert.is(t.signal.aborted, true);
    assert.is(t.cancel('again'), false, 'a second cancel is a no-op');
    assert.ok(t.isAlive(), 'cooperative: alive until its target settles');
    await withTimeout(t.join(), 30, 'join');
  });
  assertCancelled(t, 'user asked');
  assert.is(sawReason, t.exception, 'the signal aborts with the thread\'s error');
  assert.is(seen.length, 0, 'the excepthook does not see a cancellation by default');
});

test('function target: cancel() before start and after the end returns false; cancel() without a reason has no cause', async () => {
  const t = new BackgroundThread({ target: () => 1 });
  assert.is(t.cancel(), false);
  t.start();
  await t.join();
  assert.is(t.cancel(), false);
  assert.is(t.result, 1);
  assert.is(t.exception, undefined);
  const gate = deferred();
  const began = deferred();
  const u = new BackgroundThread({ target: () => { began.resolve(); return gate.promise; } });
  u.start();
  await began.promise;
  assert.ok(u.cancel());
  assert.is(u.exception, undefined, 'final once the thread has ended');
  // Cooperative: the thread lives until its target settles.
  assert.is(await u.join(0.05), false);
  gate.resolve('ignored');
  await withTimeout(u.join(), 30, 'join');
  assert.instance(u.exception, ThreadCancelledError);
  assert.not.ok('cause' in u.exception, 'no cause without a reason');
});

test('function target: cancelled before its target began, it never runs; settling (outcome known) cancel() is false', async () => {
  let ran = false;
  const t = new BackgroundThread({ target: () => { ran = true; } });
  t.start();
  assert.ok(t.cancel('before it ran'));
  await withTimeout(t.join(), 30, 'join');
  assert.is(ran, false);
  assertCancelled(t, 'before it ran');
  const gate = deferred();
  let u;
  u = new BackgroundThread({ target: () => { gate.resolve(); return 'value'; } });
  u.start();
  await gate.promise;
  assert.is(u.cancel(), false, 'its target has returned: nothing to cancel');
  await u.join();
  assert.is(u.result, 'value');
});

test('the signal option: aborting it cancels; already aborted at start(), the target never runs', async () => {
  const controller = new AbortController();
  const t = new BackgroundThread({
    target: () => new Promise((resolve) => { currentThread().signal.addEventListener('abort', resolve); }),
    signal: controller.signal,
  });
  t.start();
  await nextTurn();
  controller.abort('from the signal');
  await withTimeout(t.join(), 30, 'join');
  assertCancelled(t, 'from the signal');
  let ran = false;
  const early = new BackgroundThread({ target: () => { ran = true; }, signal: AbortSignal.abort('early') });
  early.start();
  assert.ok(early.isAlive());
  await withTimeout(early.join(), 30, 'join');
  assert.is(ran, false);
  assertCancelled(early, 'early');
  assert.is(early.cancel(), false);
});

test('reportCancel: true hands the cancellation to the excepthook, once', async () => {
  const gate = deferred();
  const began = deferred();
  const target = () => { began.resolve(); return gate.promise; };
  const t = new BackgroundThread({ target, reportCancel: true });
  const seen = await withHook(async (seen) => {
    t.start();
    await began.promise;
    t.cancel('why');
    await nextTurn();
    assert.is(seen.length, 0, 'reported when the thread ends, not before');
    gate.resolve();
    await withTimeout(t.join(), 30, 'join');
  });
  assert.is(seen.length, 1);
  assert.is(seen[0], t.exception);
  const file = marker();
  const m = module('cooperative', { args: [file], reportCancel: true });
  const seenModule = await withHook(async () => {
    m.start();
    await until(() => existsSync(file), 60, 'the export to begin');
    m.cancel('why');
    await withTimeout(m.join(), 60, 'join');
  });
  assert.is(seenModule.length, 1);
  assert.is(seenModule[0], m.exception);
});

test('bad options: signal not an AbortSignal, cancelGrace with a function target or negative, reportCancel not a boolean', () => {
  const throws = (options, Class, code) => {
    try {
      new BackgroundThread(options);
    } catch (error) {
      assert.instance(error, Class);
      assert.is(error.code, code);
      return;
    }
    assert.unreachable(`${JSON.stringify(Object.keys(options))} was accepted`);
  };
  throws({ target: () => {}, signal: {} }, TypeError, 'ERR_INVALID_ARG_TYPE');
  throws({ target: () => {}, cancelGrace: 1 }, TypeError, 'ERR_INVALID_ARG_VALUE');
  throws({ target: { module: FIXTURE, export: 'reports' }, cancelGrace: -1 }, RangeError, 'ERR_OUT_OF_RANGE');
  throws({ target: { module: FIXTURE, export: 'reports' }, cancelGrace: '1' }, TypeError, 'ERR_INVALID_ARG_TYPE');
  throws({ target: () => {}, reportCancel: 1 }, TypeError, 'ERR_INVALID_ARG_TYPE');
});

test('module target: cancel() aborts the isolate\'s signal (with a copy of the error); the export settles; the isolate is reused', async () => {
  const file = marker();
  const t = module('cooperative', { args: [file] });
  t.start();
  await until(() => existsSync(file), 60, 'the export to begin');
  assert.ok(t.cancel(new RangeError('enough')));
  await withTimeout(t.join(), 60, 'join');
  assert.instance(t.exception, ThreadCancelledError);
  assert.instance(t.exception.cause, RangeError);
  assert.is(t.exception.cause.message, 'enough');
  assert.is(t.result, undefined, 'what it returned after the cancel is dropped');
  assert.ok(isolatePool().idle >= 1, 'the isolate went back to the pool');
});

test('module target that ignores its signal: terminated after cancelGrace, its isolate never reused', async () => {
  const file = marker();
  const t = module('ignores', { args: [file], cancelGrace: 0.2 });
  t.start();
  await until(() => existsSync(file), 60, 'the export to begin');
  const stuckIsolate = Number(readFileSync(file, 'utf8'));
  assert.ok(t.cancel('stuck'));
  await withTimeout(t.join(), 60, 'join');
  assertCancelled(t, 'stuck');
  // Every later thread runs on another isolate than the terminated one.
  const ids = [];
  for (let i = 0; i < 3; i++) {
    const p = module('isolateId');
    p.start();
    await p.join();
    ids.push(p.result);
  }
  assert.ok(stuckIsolate > 0);
  assert.not.ok(ids.includes(stuckIsolate), 'the terminated isolate is not reused');
});

test('module target: cancelled while queued under maxIsolates, it leaves the queue and never runs', async () => {
  setIsolatePool({ maxIsolates: 1 });
  try {
    const busyFile = marker();
    const busy = module('cooperative', { args: [busyFile] });
    busy.start();
    await until(() => existsSync(busyFile), 60, 'the first to begin');
    const queuedFile = marker();
    const queued = module('cooperative', { args: [queuedFile] });
    queued.start();
    assert.is(isolatePool().waiting, 1);
    assert.ok(queued.cancel('not needed'));
    await withTimeout(queued.join(), 60, 'join of the queued one');
    assertCancelled(queued, 'not needed');
    assert.is(isolatePool().waiting, 0);
    assert.not.ok(existsSync(queuedFile), 'it never ran');
    busy.cancel();
    await withTimeout(busy.join(), 60, 'join');
  } finally {
    setIsolatePool({ maxIsolates: Infinity });
  }
});

test('module target: cancelGrace 0 terminates at once; cancel() after the end is false', async () => {
  const file = marker();
  const t = module('ignores', { args: [file], cancelGrace: 0 });
  t.start();
  await until(() => existsSync(file), 60, 'the export to begin');
  assert.ok(t.cancel());
  await withTimeout(t.join(), 60, 'join');
  assert.instance(t.exception, ThreadCancelledError);
  assert.is(t.cancel(), false);
});

test.run();
