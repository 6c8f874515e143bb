// thread.result and thread.exception, for both kinds of target: what the target returned (a
// function target's own value, a module target's structured clone, a value moved with
// transfer()), what it threw or rejected with (set once the excepthook has seen it), both
// undefined until the end; the `transfer` option, which moves args into the isolate; and the
// checks of the `isolate` and `transfer` options and of transfer().
import { MessageChannel } from 'node:worker_threads';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  BackgroundThread, enumerate, getExcepthook, setExcepthook, setIsolatePool, transfer,
} from 'background-thread';
import { throwsTyped } from './helpers/errors.mjs';
import { counts, emptyPool, ended, gate, poolTarget, releaseAll, until } from './helpers/isolates.mjs';
import { deferred } from './helpers/wait.mjs';

test.after.each(releaseAll);

/**
 * Starts each thread with a hook that records, per call, the thread's `exception` and
 * `isAlive()` then; joins them all. Returns the hook's calls, in order, and the order of events
 * ('hook NAME', 'joined NAME').
 */
async function runWithHook(threads) {
  const previous = getExcepthook();
  const calls = [];
  const events = [];
  setExcepthook((args) => {
    calls.push({ args, exceptionThen: args.thread.exception, aliveThen: args.thread.isAlive() });
    events.push(`hook ${args.thread.name}`);
  });
  try {
    for (const t of threads) t.start();
    await Promise.all(threads.map((t) => t.join().then((joined) => {
      assert.is(joined, true);
      events.push(`joined ${t.name}`);
    })));
  } finally {
    setExcepthook(previous);
  }
  return { calls, events };
}

const pattern = (n) => Uint8Array.from({ length: n }, (_, i) => i % 251);

// --- function targets ----------------------------------------------------------------------------

test('function target: result is the value returned, or the value its Promise (or thenable) resolved to; undefined until the end', async () => {
  const sync = new BackgroundThread({ target: (a, b) => a + b, args: [2, 3] });
  sync.start();
  assert.is(sync.result, undefined, 'before the end');
  assert.is(await sync.join(), true);
  assert.is(sync.result, 5);
  assert.is(sync.exception, undefined);

  const value = { list: [1, 2, 3] };
  const settle = deferred();
  let ran = false;
  const later = new BackgroundThread({ target: () => { ran = true; return settle.promise; } });
  later.start();
  await until(() => ran, 30, 'the target to run');
  assert.ok(later.isAlive());
  assert.is(later.result, undefined, 'while its Promise is pending');
  settle.resolve(value);
  assert.is(await later.join(), true);
  assert.is(later.result, value, 'the very object: a function target shares this loop');

  const object = ended({ target: () => value });
  const thenable = ended({ target: () => ({ then(resolve) { resolve('from a thenable'); } }) });
  const falsy = ended({ target: () => 0 });
  assert.equal((await Promise.all([object, thenable, falsy])).map((t) => t.result), [value, 'from a thenable', 0]);
  assert.is((await object).result, value);
});

test('function target returning transfer(value, list): result is the value itself, nothing is detached', async () => {
  const bytes = pattern(16);
  const sync = await ended({ target: () => transfer(bytes, [bytes.buffer]) });
  assert.is(sync.result, bytes);
  const promised = await ended({ target: async () => transfer(bytes, [bytes.buffer]) });
  assert.is(promised.result, bytes);
  assert.is(bytes.buffer.byteLength, 16, 'one loop: there is nowhere to move it to');
});

test('function target: exception is what it threw or rejected with, set once the excepthook has seen it', async () => {
  const thrown = Object.assign(new Error('thrown'), { code: 'E_THROWN' });
  const threads = [
    new BackgroundThread({ name: 'throws', target: () => { throw thrown; } }),
    new BackgroundThread({ name: 'rejects', target: async () => { await null; throw new RangeError('rejected'); } }),
    new BackgroundThread({ name: 'rejects-a-string', target: () => Promise.reject('just a string') }),
    new BackgroundThread({ name: 'fine', target: () => 'fine' }),
  ];
  for (const t of threads) assert.is(t.exception, undefined, 'before start()');
  const { calls, events } = await runWithHook(threads);
  assert.is(calls.length, 3);
  for (const { args, exceptionThen, aliveThen } of calls) {
    assert.is(exceptionThen, undefined, `${args.thread.name}: not yet set while the hook runs`);
    assert.is(aliveThen, true, `${args.thread.name}: the hook runs before the end`);
    assert.is(args.thread.exception, args.excValue, `${args.thread.name}: exception is what the hook saw`);
    assert.is(args.thread.result, undefined, `${args.thread.name}: no result`);
  }
  assert.is(threads[0].exception, thrown);
  assert.instance(threads[1].exception, RangeError);
  assert.is(threads[2].exception, 'just a string');
  assert.equal([threads[3].exception, threads[3].result], [undefined, 'fine']);
  for (const name of ['throws', 'rejects', 'rejects-a-string']) {
    assert.ok(events.indexOf(`hook ${name}`) < events.indexOf(`joined ${name}`), `${name}: ${events}`);
  }
});

// --- module targets ------------------------------------------------------------------------------

test('module target: result is a structured clone of what the export returned or resolved to; undefined until the end', async () => {
  const g = gate();
  const held = new BackgroundThread({ target: poolTarget('count'), args: [g.buffer] });
  held.start();
  await g.started();
  assert.equal([held.result, held.exception], [undefined, undefined], 'while it runs');
  g.release();
  assert.is(await held.join(), true);
  assert.ok(Number.isInteger(held.result) && held.result >= 1);

  const sent = { nested: { list: [1, 'two', null] } };
  const [clone, resolved, primitive] = await Promise.all([
    ended({ target: poolTarget('structured') }),
    ended({ target: poolTarget('later'), args: [sent] }),
    ended({ target: poolTarget('later'), args: [42] }),
  ]);
  assert.equal(clone.result, {
    number: 1.5, string: 'two', list: [3, [4]], map: new Map([['k', 5]]), set: new Set([6]),
    date: new Date(7), big: 8n, nested: { nil: null, undef: undefined },
    bytes: new Uint8Array([9, 10]),
  });
  assert.instance(clone.result.map, Map);
  assert.instance(clone.result.date, Date);
  assert.instance(clone.result.bytes, Uint8Array);
  assert.equal(resolved.result, sent, 'what its Promise resolved to');
  assert.is.not(resolved.result, sent, 'a copy: it went to another isolate and back');
  assert.is(primitive.result, 42);
  for (const t of [clone, resolved, primitive]) assert.is(t.exception, undefined);
});

test('module target returning transfer(): the value arrives intact and is moved (detached in the isolate); without it, copied', async () => {
  // keptByteLength, run next on the same warm isolate, sees the buffer the export returned.
  await emptyPool();
  const moved = await ended({ target: poolTarget('transferBack'), args: [1000] });
  assert.instance(moved.result, Uint8Array);
  assert.equal(moved.result, pattern(1000));
  const afterMove = await ended({ target: poolTarget('keptByteLength') });
  assert.is(afterMove.nativeId, moved.nativeId, 'looked at on the same isolate');
  assert.is(afterMove.result, 0, 'the isolate\'s buffer was detached: moved, not copied');

  const copied = await ended({ target: poolTarget('copyBack'), args: [1000] });
  assert.equal(copied.result, pattern(1000));
  const afterCopy = await ended({ target: poolTarget('keptByteLength') });
  assert.is(afterCopy.nativeId, copied.nativeId);
  assert.is(afterCopy.result, 1000, 'without transfer() the isolate keeps its buffer');
});

test('module target: exception is what the export threw or rejected with, once the excepthook has seen it', async () => {
  const threads = [
    new BackgroundThread({ name: 'module-throws', target: poolTarget('throwSync', 'throws.mjs'), args: ['sync', 'E_SYNC'] }),
    new BackgroundThread({ name: 'module-rejects', target: poolTarget('throwAsync', 'throws.mjs'), args: ['async', 'E_ASYNC'] }),
    new BackgroundThread({ name: 'module-no-export', target: poolTarget('nope', 'throws.mjs') }),
    new BackgroundThread({ name: 'module-fine', target: poolTarget('later'), args: ['ok'] }),
  ];
  const { calls, events } = await runWithHook(threads);
  assert.is(calls.length, 3);
  for (const { args, exceptionThen, aliveThen } of calls) {
    assert.is(exceptionThen, undefined, `${args.thread.name}: not yet set while the hook runs`);
    assert.is(aliveThen, true, `${args.thread.name}: the hook runs before the end`);
    assert.is(args.thread.exception, args.excValue, `${args.thread.name}: exception is what the hook saw`);
    assert.is(args.thread.result, undefined);
    assert.ok(events.indexOf(`hook ${args.thread.name}`) < events.indexOf(`joined ${args.thread.name}`), String(events));
  }
  const [sync, async, noExport, fine] = threads;
  assert.instance(sync.exception, Error);
  assert.equal([sync.exception.message, sync.exception.code], ['sync', 'E_SYNC']);
  assert.equal([async.exception.message, async.exception.code], ['async', 'E_ASYNC']);
  assert.instance(noExport.exception, TypeError);
  assert.is(noExport.exception.code, 'ERR_MODULE_TARGET_EXPORT');
  assert.equal([fine.exception, fine.result], [undefined, 'ok']);
});

test('a module result that cannot be cloned is the exception (TypeError ERR_MODULE_TARGET_RESULT); the isolate stays usable', async () => {
  await emptyPool();
  const t = new BackgroundThread({ name: 'returns-a-function', target: poolTarget('returnsFunction') });
  const { calls, events } = await runWithHook([t]);
  assert.is(calls.length, 1);
  assert.is(calls[0].exceptionThen, undefined);
  assert.instance(t.exception, TypeError);
  assert.is(t.exception.code, 'ERR_MODULE_TARGET_RESULT');
  assert.match(t.exception.message, /structured-cloned/);
  assert.is(t.exception, calls[0].args.excValue);
  assert.is(t.result, undefined);
  assert.equal(events, ['hook returns-a-function', 'joined returns-a-function']);
  const next = await ended({ target: poolTarget('count') });
  assert.equal([next.nativeId, next.result], [t.nativeId, 2], 'the same isolate, its module state kept');
});

// --- the transfer option -------------------------------------------------------------------------

test('the transfer option moves args into the isolate at start(): detached here, intact there; unlisted ones are copied', async () => {
  const expected = { byteLength: 256, sum: pattern(256).reduce((a, b) => a + b, 0) };
  for (const isolate of ['warm', 'fresh']) {
    const moved = pattern(256).buffer;
    const t = new BackgroundThread({ target: poolTarget('measure'), args: [moved], transfer: [moved], isolate });
    t.start();
    assert.is(moved.byteLength, 0, `${isolate}: detached once start() returned`);
    assert.is(await t.join(), true);
    assert.equal(t.result, expected, `${isolate}: it arrived intact`);
  }
  const kept = pattern(256).buffer;
  const copied = new BackgroundThread({ target: poolTarget('measure'), args: [kept] });
  copied.start();
  assert.is(kept.byteLength, 256, 'not listed: copied');
  assert.is(await copied.join(), true);
  assert.equal(copied.result, expected);
});

test('the transfer option moves args at start() also into a thread that waits for an isolate (maxIsolates)', async () => {
  await emptyPool();
  setIsolatePool({ maxIsolates: 1 });
  const g = gate();
  const held = new BackgroundThread({ target: poolTarget('count'), args: [g.buffer] });
  held.start();
  await g.started();
  const moved = pattern(64).buffer;
  const t = new BackgroundThread({ target: poolTarget('measure'), args: [moved], transfer: [moved] });
  t.start();
  assert.equal(counts(), { idle: 0, busy: 1, waiting: 1 });
  assert.is(moved.byteLength, 0, 'detached at start(), though it waits');
  g.release();
  assert.is(await t.join(), true);
  assert.equal(t.result, { byteLength: 64, sum: pattern(64).reduce((a, b) => a + b, 0) });
  assert.is(await held.join(), true);
});

// Node's own refusals differ by version (a number in the list: TypeError
// ERR_INVALID_TRANSFER_OBJECT on 18 and 20, DataCloneError on 22 and later; a MessagePort left out
// of the list: TypeError ERR_MISSING_TRANSFERABLE_IN_TRANSFER_LIST on 18 and 20; a detached
// ArrayBuffer: sent as an empty one by 18 and 20) and by the path the run takes (a queued run is
// cloned by structuredClone, whose refusal of a number on 22 and later is ERR_INVALID_ARG_TYPE):
// start() throws one TypeError, ERR_INVALID_ARG_VALUE, on each path of every version; Node's error
// (or the package's) is its cause.
test('a transfer list that cannot be transferred: TypeError ERR_INVALID_ARG_VALUE at start() on an idle isolate, a fresh one or in the queue; the thread unstarted, nothing moved or left running', async () => {
  const refused = [
    ['a number', (b) => ({ args: [b], transfer: [b, 5] })],
    ['a plain object', (b) => ({ args: [b], transfer: [b, {}] })],
    ['a duplicate', (b) => ({ args: [b], transfer: [b, b] })],
    ['a detached ArrayBuffer (moved already)', (b) => {
      const moved = pattern(8).buffer;
      structuredClone(moved, { transfer: [moved] });
      return { args: [b, moved], transfer: [b, moved] };
    }],
    ['a MessagePort in args, not listed', (b, port) => ({ args: [b, port], transfer: [] })],
  ];
  const tryAll = (path, more = {}) => {
    const before = counts();
    for (const [what, options] of refused) {
      const label = `${path}, ${what}`;
      const buffer = pattern(8).buffer;
      const { port1, port2 } = new MessageChannel();
      try {
        const t = new BackgroundThread({ target: poolTarget('measure'), ...options(buffer, port1), ...more });
        const error = throwsTyped(() => t.start(), TypeError, 'ERR_INVALID_ARG_VALUE', label);
        assert.match(error.message, /^cannot start \S+ \(measure\): the args and kwargs of a module target must be structured-cloneable \(.+\)$/, label);
        assert.instance(error.cause, Error, `${label}: Node's refusal is the cause`);
        assert.is(buffer.byteLength, 8, `${label}: nothing was moved`);
        assert.equal([t.ident, t.isAlive(), enumerate().includes(t)], [null, false, false], label);
        assert.equal(counts(), before, `${label}: the pool is as it was`);
      } finally {
        port1.close();
        port2.close();
      }
    }
  };
  await emptyPool();
  await ended({ target: poolTarget('count') });
  tryAll('an idle isolate');
  tryAll('a fresh isolate', { isolate: 'fresh' });
  setIsolatePool({ maxIsolates: 1 });
  const g = gate();
  const held = new BackgroundThread({ target: poolTarget('count'), args: [g.buffer] });
  held.start();
  await g.started();
  tryAll('queued (maxIsolates)');
  g.release();
  assert.is(await held.join(), true);
});

// --- checks of the options and of transfer() -----------------------------------------------------

test('the isolate and transfer options: bad values, or given with a function target, throw TypeErrors with codes', () => {
  const moduleTarget = poolTarget('count');
  const fn = () => {};
  const buffer = new ArrayBuffer(8);
  const cases = [
    [{ target: moduleTarget, isolate: 'x' }, 'ERR_INVALID_ARG_VALUE'],
    [{ target: moduleTarget, isolate: 'FRESH' }, 'ERR_INVALID_ARG_VALUE'],
    [{ target: moduleTarget, isolate: true }, 'ERR_INVALID_ARG_VALUE'],
    [{ target: moduleTarget, isolate: 0 }, 'ERR_INVALID_ARG_VALUE'],
    [{ target: fn, isolate: 'fresh' }, 'ERR_INVALID_ARG_VALUE'],
    [{ target: fn, isolate: 'warm' }, 'ERR_INVALID_ARG_VALUE'],
    [{ isolate: 'fresh' }, 'ERR_INVALID_ARG_VALUE'],
    [{ target: fn, transfer: [buffer] }, 'ERR_INVALID_ARG_VALUE'],
    [{ target: moduleTarget, transfer: 'x' }, 'ERR_INVALID_ARG_TYPE'],
    [{ target: moduleTarget, transfer: {} }, 'ERR_INVALID_ARG_TYPE'],
    [{ target: moduleTarget, transfer: buffer }, 'ERR_INVALID_ARG_TYPE'],
    [{ target: moduleTarget, transfer: 5 }, 'ERR_INVALID_ARG_TYPE'],
    [{ target: fn, transfer: 'x' }, 'ERR_INVALID_ARG_TYPE'],
  ];
  for (const [options, code] of cases) {
    const shown = Object.entries(options).map(([k, v]) => `${k}: ${typeof v === 'function' ? 'fn' : v?.module ? 'module' : String(v)}`).join(', ');
    throwsTyped(() => new BackgroundThread(options), TypeError, code, `{ ${shown} }`);
  }
  assert.is(buffer.byteLength, 8, 'nothing was moved');
  // Accepted: null/undefined with any target, an empty list with a function target.
  for (const options of [{ target: fn, isolate: null, transfer: null },
    { target: fn, isolate: undefined, transfer: [] },
    { target: moduleTarget, isolate: 'warm', transfer: [] },
    { target: moduleTarget, isolate: 'fresh' }]) {
    assert.instance(new BackgroundThread(options), BackgroundThread);
  }
});

test('transfer(value, list): list not an array is a TypeError ERR_INVALID_ARG_TYPE', () => {
  for (const list of [undefined, null, 'x', 5, {}, { length: 1, 0: new ArrayBuffer(1) }, new ArrayBuffer(4)]) {
    throwsTyped(() => transfer({}, list), TypeError, 'ERR_INVALID_ARG_TYPE', `transfer({}, ${String(list)})`);
  }
  const value = { a: 1 };
  const wrapped = transfer(value, []);
  assert.is.not(wrapped, value, 'a wrapper the thread unwraps');
});

test.run();
