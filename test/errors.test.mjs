// Every kind of bad input gets its typed error, with a stable `code` and Python's message where
// Python has one, deterministically (the fuzz tests throw arbitrary input at the same calls), and
// leaves the object usable: startable, joinable, its flags as they were.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AssertionError } from 'node:assert';
import {
  BackgroundThread, BackgroundThreadError, BackgroundThreadLimitReachedError, Error as SeedError,
  FrontendsNotSupported, RuntimeError, currentThread, joinAll, mainThread, setExcepthook,
  setMaxBackgroundThreads, stackSize, startNewBackgroundThread, start_new_background_thread,
} from 'background-thread';
import { rejectsTyped, throwsTyped } from './helpers/errors.mjs';
import { deferred, nextTurn } from './helpers/wait.mjs';

const noop = () => {};

test('group other than null/undefined: AssertionError with Python\'s message, both forms', () => {
  for (const make of [() => new BackgroundThread({ group: 'g' }), () => new BackgroundThread(0, noop)]) {
    const error = throwsTyped(make, AssertionError, 'ERR_ASSERTION');
    assert.is(error.message, 'group argument must be None for now');
  }
  new BackgroundThread({ group: null });
  new BackgroundThread(undefined, noop);
});

test('target that is not a function: TypeError naming the argument', () => {
  for (const target of [1, 'f', {}, [], true, Symbol('s'), 10n]) {
    throwsTyped(() => new BackgroundThread({ target }), TypeError, 'ERR_INVALID_ARG_TYPE', /"target"/);
    throwsTyped(() => new BackgroundThread(null, target), TypeError, 'ERR_INVALID_ARG_TYPE', /"target"/);
  }
  throwsTyped(() => startNewBackgroundThread(42), TypeError, 'ERR_INVALID_ARG_TYPE', /"target"/);
  throwsTyped(() => startNewBackgroundThread(), TypeError, 'ERR_INVALID_ARG_TYPE', /"target"/);
  assert.is(start_new_background_thread, startNewBackgroundThread);
});

test('args not iterable, kwargs not an object: TypeError naming the argument', () => {
  for (const args of [1, {}, true, noop]) {
    throwsTyped(() => new BackgroundThread({ target: noop, args }), TypeError, 'ERR_INVALID_ARG_TYPE', /"args"/);
  }
  for (const kwargs of [1, 'a', [], true]) {
    throwsTyped(() => new BackgroundThread({ target: noop, kwargs }), TypeError, 'ERR_INVALID_ARG_TYPE', /"kwargs"/);
  }
  throwsTyped(() => startNewBackgroundThread(noop, 5), TypeError, 'ERR_INVALID_ARG_TYPE', /"args"/);
  throwsTyped(() => startNewBackgroundThread(noop, [], 'x'), TypeError, 'ERR_INVALID_ARG_TYPE', /"kwargs"/);
});

test('unknown options, too many positional arguments, non-boolean daemon: TypeError', () => {
  throwsTyped(() => new BackgroundThread({ target: noop, deamon: true }), TypeError, 'ERR_INVALID_ARG_VALUE', /deamon/);
  throwsTyped(() => new BackgroundThread(null, noop, 'n', [], {}, null, 'extra'), TypeError, 'ERR_INVALID_ARG_TYPE');
  throwsTyped(() => new BackgroundThread({ daemon: 'yes' }), TypeError, 'ERR_INVALID_ARG_TYPE', /"daemon"/);
  const t = new BackgroundThread();
  throwsTyped(() => { t.daemon = 1; }, TypeError, 'ERR_INVALID_ARG_TYPE', /"daemon"/);
  assert.is(t.daemon, false, 'a rejected value leaves the flag as it was');
});

test('a second start(), before and after the end: RuntimeError, the thread unharmed', async () => {
  const t = new BackgroundThread({ target: noop });
  t.start();
  throwsTyped(() => t.start(), RuntimeError, 'ERR_THREAD_ALREADY_STARTED', /^threads can only be started once$/);
  assert.is(await t.join(), true);
  throwsTyped(() => t.start(), RuntimeError, 'ERR_THREAD_ALREADY_STARTED', /^threads can only be started once$/);
  assert.is(t.isAlive(), false);
});

test('join before start: a rejected Promise with RuntimeError; joinSync throws it', async () => {
  const t = new BackgroundThread({ target: noop });
  await rejectsTyped(t.join(), RuntimeError, 'ERR_THREAD_NOT_STARTED', /^cannot join thread before it is started$/);
  throwsTyped(() => t.joinSync(), RuntimeError, 'ERR_THREAD_NOT_STARTED');
  t.start();
  assert.is(await t.join(), true, 'still startable and joinable after the failed join');
});

test('join of the current thread: a rejected Promise; joinSync throws; joining the main thread too', async () => {
  let joinPromise, syncError, mainJoin;
  const t = new BackgroundThread({
    target: () => {
      joinPromise = currentThread().join();
      joinPromise.catch(() => {});  // handled now; asserted below
      try { currentThread().joinSync(1); } catch (error) { syncError = error; }
      mainJoin = mainThread().join();
      mainJoin.catch(() => {});
    },
  });
  t.start();
  await t.join();
  await rejectsTyped(joinPromise, RuntimeError, 'ERR_JOIN_CURRENT_THREAD', /^cannot join current thread$/);
  assert.instance(syncError, RuntimeError);
  assert.is(syncError.code, 'ERR_JOIN_CURRENT_THREAD');
  await rejectsTyped(mainJoin, RuntimeError, 'ERR_JOIN_CURRENT_THREAD');
  await rejectsTyped(mainThread().join(), RuntimeError, 'ERR_JOIN_CURRENT_THREAD');
});

test('setting daemon once started (also after the end): RuntimeError; on the main thread too', async () => {
  const t = new BackgroundThread({ target: noop });
  t.daemon = true;
  t.setDaemon(false);
  t.start();
  throwsTyped(() => { t.daemon = true; }, RuntimeError, 'ERR_THREAD_ACTIVE', /^cannot set daemon status of active thread$/);
  throwsTyped(() => t.setDaemon(true), RuntimeError, 'ERR_THREAD_ACTIVE');
  await t.join();
  throwsTyped(() => { t.daemon = true; }, RuntimeError, 'ERR_THREAD_ACTIVE');
  assert.is(t.daemon, false);
  throwsTyped(() => { mainThread().daemon = true; }, RuntimeError, 'ERR_THREAD_ACTIVE');
});

test('timeout not a number: TypeError; NaN: RangeError (join rejects, joinSync and joinAll too)', async () => {
  const gate = deferred();
  const t = new BackgroundThread({ target: () => gate.promise });
  t.start();
  for (const bad of ['1', {}, [], true, 1n]) {
    await rejectsTyped(t.join(bad), TypeError, 'ERR_INVALID_ARG_TYPE', /"timeout"/);
    throwsTyped(() => t.joinSync(bad), TypeError, 'ERR_INVALID_ARG_TYPE', /"timeout"/);
    await rejectsTyped(joinAll(bad), TypeError, 'ERR_INVALID_ARG_TYPE', /"timeout"/);
  }
  await rejectsTyped(t.join(NaN), RangeError, 'ERR_OUT_OF_RANGE', /NaN/);
  throwsTyped(() => t.joinSync(NaN), RangeError, 'ERR_OUT_OF_RANGE', /NaN/);
  await rejectsTyped(joinAll(NaN), RangeError, 'ERR_OUT_OF_RANGE', /NaN/);
  assert.is(t.isAlive(), true, 'bad timeouts leave the thread running');
  await nextTurn();
  gate.resolve();
  assert.is(await t.join(), true);
});

test('joinSync while the target still needs this loop: ERR_JOIN_WOULD_DEADLOCK at once; 0 polls', async () => {
  const gate = deferred();
  const t = new BackgroundThread({ target: () => gate.promise });
  t.start();
  const begun = performance.now();
  throwsTyped(() => t.joinSync(), RuntimeError, 'ERR_JOIN_WOULD_DEADLOCK', /join\(\)/);
  throwsTyped(() => t.joinSync(120), RuntimeError, 'ERR_JOIN_WOULD_DEADLOCK');
  // A hang guard, not a speed check: a joinSync that waited would take 120 s (or forever).
  assert.ok(performance.now() - begun < 30000, 'refused, not the 120 s waited for');
  assert.is(t.joinSync(0), false);
  assert.is(t.joinSync(-1), false);
  await nextTurn();
  gate.resolve();
  assert.is(await t.join(), true);
});

test('stackSize negative, NaN, fractional, too small or too large: RangeError naming the limit', () => {
  for (const bad of [-1, NaN, 1.5, 1024, 32767, 2 ** 30 + 1, Infinity, -Infinity]) {
    throwsTyped(() => stackSize(bad), RangeError, 'ERR_OUT_OF_RANGE', /32768/);
    throwsTyped(() => new BackgroundThread({ stackSize: bad }), RangeError, 'ERR_OUT_OF_RANGE', /"stackSize"/);
  }
  throwsTyped(() => stackSize('64k'), TypeError, 'ERR_INVALID_ARG_TYPE');
  assert.is(stackSize(), 0, 'rejected sizes changed nothing');
});

test('bad limits and hooks: TypeError / RangeError', () => {
  throwsTyped(() => setMaxBackgroundThreads('3'), TypeError, 'ERR_INVALID_ARG_TYPE');
  for (const bad of [-1, 1.5, NaN]) throwsTyped(() => setMaxBackgroundThreads(bad), RangeError, 'ERR_OUT_OF_RANGE');
  throwsTyped(() => setExcepthook('hook'), TypeError, 'ERR_INVALID_ARG_TYPE', /"hook"/);
});

test('over the cap: BackgroundThreadLimitReachedError; the thread stays unstarted and starts later', async () => {
  const { promise: gate, resolve: release } = deferred();
  setMaxBackgroundThreads(2);
  try {
    const a = new BackgroundThread({ target: () => gate });
    const b = new BackgroundThread({ target: () => gate });
    const c = new BackgroundThread({ target: () => gate });
    a.start();
    b.start();
    const error = throwsTyped(() => c.start(), BackgroundThreadLimitReachedError, 'ERR_THREAD_LIMIT_REACHED', /setMaxBackgroundThreads/);
    assert.instance(error, BackgroundThreadError);
    assert.is(c.isAlive(), false);
    assert.is(c.ident, null);
    await rejectsTyped(c.join(), RuntimeError, 'ERR_THREAD_NOT_STARTED');
    release();
    await a.join();
    c.start();
    assert.is(c.isAlive(), true);
    assert.is(await c.join(), true);
    await b.join();
    setMaxBackgroundThreads(0);
    throwsTyped(() => startNewBackgroundThread(noop), BackgroundThreadLimitReachedError, 'ERR_THREAD_LIMIT_REACHED');
  } finally {
    setMaxBackgroundThreads(Infinity);
  }
});

test('error classes: names, codes, hierarchy, the seed\'s Error alias', () => {
  assert.is(SeedError, BackgroundThreadError);
  const cases = [
    [BackgroundThreadError, 'ERR_BACKGROUND_THREAD'],
    [BackgroundThreadLimitReachedError, 'ERR_THREAD_LIMIT_REACHED'],
    [FrontendsNotSupported, 'ERR_FRONTENDS_NOT_SUPPORTED'],
    [RuntimeError, 'ERR_RUNTIME'],
  ];
  for (const [Type, code] of cases) {
    const error = new Type('m');
    assert.is(error.name, Type.name);
    assert.is(error.code, code);
    assert.is(error.message, 'm');
    assert.instance(error, Error);
    // `code: undefined` is no code: the class's default stands, as in the base class.
    assert.is(new Type('m', { code: undefined }).code, code);
    assert.is(new Type('m', { code: 'ERR_X' }).code, 'ERR_X');
    const cause = new Error('c');
    assert.is(new Type('m', { cause }).cause, cause);
  }
  assert.instance(new FrontendsNotSupported(), BackgroundThreadError);
  assert.not.instance(new RuntimeError(), BackgroundThreadError);
});

test.run();
