// Hardening: fuzzed bad input (SPEC §2, §4: "Bad input never crashes the process, never leaks a
// native thread, and leaves the object usable"). fast-check gives every public function, both
// constructor forms and every option arbitrary values: wrong types, special numbers, bigints,
// symbols, strings with NULs and lone surrogates, data of every shape, functions, proxies (pass-
// through, throwing traps, revoked), throwing getters / iterators / toString / toPrimitive,
// values with no primitive form, frozen objects, class instances (see fixtures/fuzz-values.mjs).
//
// For every property:
//  - an error is judged by fixtures/fuzz-values.mjs judge(): documented class + documented
//    `code` (and, where the outcome is computable, the expected one), or the caller's own error
//    unchanged where the package must run the caller's code, or the engine's TypeError on a
//    revoked proxy / an unconvertible value (the rules are written out above judge());
//  - no 'uncaughtException' / 'unhandledRejection' (recorded by listeners, checked after each run);
//  - every thread started is joined (true) by the end of the run, and no OS thread of the process
//    (/proc/self/task) is left over at the end of the property;
//  - the global settings are restored after each run (setMaxBackgroundThreads(Infinity),
//    stackSize(0), mainThread().name; the excepthook to the test's recording hook, and to the
//    default with setExcepthook(null) once the file is done).
// Targets run in threads are only functions made by the test (fixtures/fuzz-values.mjs fn()),
// all of which settle; what a target may return or throw is fuzzed in a child process
// (fixtures/fuzz-thread-results.mjs), since a failure there can leave a thread that never ends.
// Replay: FUZZ_SEED=<seed> (default fixed, printed on failure with the counterexample's path);
// FUZZ_SCALE=<factor> multiplies the number of runs; FUZZ_DEBUG=1 names each property as it starts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { inspect, isDeepStrictEqual } from 'node:util';
import {
  BackgroundThread, activeCount, currentThread, enumerate, excepthook, getExcepthook, joinAll,
  mainThread, setExcepthook, setMaxBackgroundThreads, stackSize, startNewBackgroundThread,
} from 'background-thread';
import * as V from './helpers/fuzz-values.mjs';
import { deferred as newDeferred, nextTurn } from './helpers/wait.mjs';

const SEED = process.env.FUZZ_SEED === undefined ? 0x5eed2024 : Number(process.env.FUZZ_SEED);
const runs = (n) => Math.max(1, Math.round(n * Number(process.env.FUZZ_SCALE ?? 1)));
const linux = process.platform === 'linux';
const tasks = () => (linux ? readdirSync('/proc/self/task').map(Number) : []);

// ---------------------------------------------------------------------------------------------
// Harness: listeners, thread tracking, restoring globals.

const events = { uncaught: [], unhandled: [] };
const onUncaught = (error) => { events.uncaught.push(error); };
const onUnhandled = (reason) => { events.unhandled.push(reason); };
/** What the recording excepthook received (reset each run). */
let hookCalls = [];
const recordingHook = (args) => { hookCalls.push(args); };

/** Gates of the current run: opened when it is over, even when it failed half-way. */
const gates = new Set();
const deferred = () => { const gate = newDeferred(); gates.add(gate); return gate; };

/** Threads started in the current run: joined (and required to end) when it is over. */
const startedThreads = new Set();
const track = (thread) => { startedThreads.add(thread); return thread; };

function restoreGlobals() {
  setMaxBackgroundThreads(Infinity);
  stackSize(0);
  setExcepthook(recordingHook);
  mainThread().name = 'MainThread';
}

const fail = (message) => { throw new Error(message); };
/**
 * Waits until none of `tids` is a thread of this process; false if one stays. Up to 20 s: a hang
 * guard (a leaked thread stays forever), generous because the machine may be loaded.
 */
async function gone(tids) {
  for (const end = performance.now() + 20000; ;) {
    const now = tasks();
    if (!tids.some((id) => now.includes(id))) return true;
    if (performance.now() > end) return false;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
const show = (value) => {
  try { return typeof value === 'string' ? JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value) : fc.stringify(value); } catch { return '<unprintable>'; }
};

test.before(async () => {
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUnhandled);
  await stat('.');   // starts libuv's threadpool now, so that it cannot look like a leak later
});

test.after(() => {
  process.off('uncaughtException', onUncaught);
  process.off('unhandledRejection', onUnhandled);
  restoreGlobals();
  setExcepthook(null);
});

async function joinTracked() {
  for (const gate of gates) gate.resolve();
  gates.clear();
  const threads = [...startedThreads];
  startedThreads.clear();
  const ended = await Promise.all(threads.map((t) => t.join(10).catch((error) => error)));
  return threads.map((t, i) => (ended[i] === true ? null : `${t} (join: ${show(ended[i])})`)).filter(Boolean);
}

/** fc.assert on an async property, with the per-run and per-property checks described above. */
function fuzz(name, arbitrary, predicate, numRuns) {
  test(name, async () => {
    if (process.env.FUZZ_DEBUG) console.error(`[fuzz] ${name}`);
    const before = tasks();
    const counts = { uncaught: events.uncaught.length, unhandled: events.unhandled.length };
    restoreGlobals();
    try {
      await fc.assert(fc.asyncProperty(arbitrary, async (input) => {
        const mark = { uncaught: events.uncaught.length, unhandled: events.unhandled.length };
        hookCalls = [];
        let failure = null;
        try {
          await predicate(input);
        } catch (error) {
          failure = error;
        }
        const stuck = await joinTracked();
        restoreGlobals();
        await nextTurn();   // 'unhandledRejection' comes after the microtasks of a macrotask
        if (failure !== null) throw failure;
        if (stuck.length > 0) fail(`threads did not end within 10 s of join(): ${stuck.join('; ')}`);
        const uncaught = events.uncaught.slice(mark.uncaught);
        const unhandled = events.unhandled.slice(mark.unhandled);
        if (uncaught.length + unhandled.length > 0) {
          fail(`uncaughtException: [${uncaught.map(V.describeError)}], unhandledRejection: [${unhandled.map(V.describeError)}]`);
        }
      }), { seed: SEED, numRuns: runs(numRuns), includeErrorInReport: true });
    } finally {
      await joinTracked();
      restoreGlobals();
    }
    await nextTurn();
    assert.equal(events.uncaught.slice(counts.uncaught).map(V.describeError), [], 'no uncaughtException');
    assert.equal(events.unhandled.slice(counts.unhandled).map(V.describeError), [], 'no unhandledRejection');
    if (linux) {
      const extra = tasks().filter((id) => !before.includes(id));
      await gone(extra);
      assert.equal(tasks().filter((id) => !before.includes(id)), [], 'OS threads left over after the property');
    }
  });
}

/** Replaces process.stderr.write until restore(); the default excepthook writes there. */
function captureStderr() {
  const own = Object.getOwnPropertyDescriptor(process.stderr, 'write');
  let text = '';
  process.stderr.write = (chunk, ...rest) => {
    text += String(chunk);
    const callback = rest.find((arg) => typeof arg === 'function');
    if (callback) callback();
    return true;
  };
  return {
    get text() { return text; },
    restore() {
      if (own === undefined) delete process.stderr.write;
      else Object.defineProperty(process.stderr, 'write', own);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Shared checks.

const CONSTRUCTOR_CODES = ['ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_VALUE', 'ERR_OUT_OF_RANGE', 'ERR_ASSERTION'];
const TIMEOUT_CODES = ['ERR_INVALID_ARG_TYPE', 'ERR_OUT_OF_RANGE'];
const isObjectLike = (v) => v !== null && (typeof v === 'object' || typeof v === 'function');

/** Starts a thread accepted from hostile input: it starts (or the OS refuses a huge stack). */
function startAccepted(t) {
  const start = V.attempt(() => t.start());
  if (start.ok) track(t);
  else V.expectAllowed(start, { codes: ['ERR_THREAD_RESOURCES_EXHAUSTED'] }, 'start() of an accepted thread');
}

/** The kernel's name for a thread named `name`: UTF-8, cut to 15 bytes on a character boundary, up to a NUL. */
function expectedComm(name) {
  let bytes = Buffer.from(name, 'utf8');
  if (bytes.length > 15) {
    let end = 15;
    while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
    bytes = bytes.subarray(0, end);
  }
  const nul = bytes.indexOf(0);
  return nul < 0 ? bytes : bytes.subarray(0, nul);
}

/** The target's arguments against the expected ones: the same values (a Map's entries are fresh arrays: equal). */
const sameArgs = (got, want) => got.length === want.length &&
  got.every((v, i) => Object.is(v, want[i]) || (Array.isArray(v) && isDeepStrictEqual(v, want[i])));

/** What `args` (plain, re-iterable) will be spread into the target, or undefined when unknown. */
function expectedArgs(argsSpec, args) {
  if (V.nullish(args)) return [];
  if (!argsSpec.plain || argsSpec.consumable) return undefined;
  return Array.from(args);
}

/**
 * A thread just constructed from these options: checks its initial state, then (its
 * target being null or a function of this test's making) starts it, checks it is a real named OS
 * thread, that bad calls on it now fail as documented, joins it, and checks what the target got.
 */
async function exerciseThread(t, { name, daemon, target, kwargs }, argsExpected) {
  if (t.isAlive() || t.ident !== null || t.nativeId !== null) fail(`fresh thread not in its initial state: ${t}`);
  if (typeof t.name !== 'string') fail(`name is not a string: ${show(t.name)}`);
  if (name) {
    if (t.name !== String(name)) fail(`name ${show(t.name)} is not String(${show(name)})`);
  } else if (!/^Thread-\d+( \(.*\))?$/s.test(t.name)) {
    fail(`automatic name expected for ${show(name)}, got ${show(t.name)}`);
  }
  const expectedDaemon = typeof daemon === 'boolean' ? daemon : false;
  if (t.daemon !== expectedDaemon || t.isDaemon() !== expectedDaemon) fail(`daemon is ${t.daemon}, expected ${expectedDaemon}`);
  String(t);
  inspect(t);

  const start = V.attempt(() => t.start());
  if (!start.ok) {
    // A huge (valid) stack the OS cannot give is the one documented way for start() to fail here.
    V.expectAllowed(start, { codes: ['ERR_THREAD_RESOURCES_EXHAUSTED'] }, 'start() of a valid thread');
    if (t.isAlive() || t.ident !== null) fail('a thread that failed to start looks started');
    return;
  }
  track(t);
  if (!t.isAlive() || !Number.isSafeInteger(t.ident) || t.ident <= 0 || !Number.isInteger(t.nativeId)) {
    fail(`started thread: isAlive ${t.isAlive()}, ident ${t.ident}, nativeId ${t.nativeId}`);
  }
  if (linux) {
    // start() returns once the OS thread runs: it exists, and carries (a prefix of) the name.
    const comm = readFileSync(`/proc/self/task/${t.nativeId}/comm`).subarray(0, -1);
    const expected = expectedComm(t.name);
    if (!comm.equals(expected)) fail(`OS thread name ${show(comm.toString('latin1'))}, expected ${show(expected.toString('latin1'))} for ${show(t.name)}`);
  }
  const again = V.attempt(() => t.start());
  if (again.ok) fail('a second start() succeeded');
  V.expectAllowed(again, { codes: ['ERR_THREAD_ALREADY_STARTED'] }, 'second start()');
  const setDaemon = V.attempt(() => { t.daemon = !t.daemon; });
  if (setDaemon.ok) fail('setting daemon on a started thread succeeded');
  V.expectAllowed(setDaemon, { codes: ['ERR_THREAD_ACTIVE'] }, 'daemon = on a started thread');
  if (t.daemon !== expectedDaemon) fail('daemon changed by a failed setter');

  const ended = await t.join(10);
  if (ended !== true) fail(`join(10) resolved ${ended}`);
  if (t.isAlive()) fail('isAlive() after join() resolved true');
  // pthread_join returns when the kernel clears the thread's tid, a moment before its /proc entry
  // goes: a leaked thread stays, an ended one is gone within that moment.
  if (linux && !await gone([t.nativeId])) fail(`OS thread ${t.nativeId} still exists 20 s after join()`);
  if (t.joinSync() !== true) fail('joinSync() of an ended thread is not true');

  if (isObjectLike(target) && V.recorders.has(target)) {
    const got = V.recorded.get(target);
    if (got === undefined) fail(`the target was not called (excepthook got: ${hookCalls.map((a) => V.describeError(a.excValue))})`);
    const trailing = V.nullish(kwargs) ? [] : [kwargs];
    if (argsExpected !== undefined) {
      const want = [...argsExpected, ...trailing];
      if (!sameArgs(got, want)) {
        fail(`the target got ${got.length} arguments, expected ${want.length}: ${show(got.slice(0, 5))} vs ${show(want.slice(0, 5))}`);
      }
    } else if (trailing.length === 1 && got.at(-1) !== kwargs) {
      fail('kwargs is not the last argument');
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Arbitraries for the constructor.

const nullishSpec = V.values(null, undefined);
const leafFor = {
  group: V.mostly(nullishSpec, 8),
  target: V.mostly(fc.oneof({ arbitrary: V.ownFunction, weight: 3 }, { arbitrary: nullishSpec, weight: 1 })),
  name: V.mostly(fc.oneof(V.nameString.map((s) => V.spec(show(s), () => s, { plain: true })), V.values(null, undefined, 0, 42, -0, NaN, 7n, 0n))),
  args: V.mostly(fc.oneof(
    fc.array(V.plainValue, { maxLength: 4 }).map((list) => V.spec(`[${list.map((s) => s.label)}]`, () => list.map((s) => s.make()), { plain: true })),
    fc.integer({ min: 0, max: 3000 }).map((n) => ({ ...V.spec(`boundedIterable(tag, ${n})`, (tag) => V.boundedIterable(tag, n)), plain: true })),
    fc.integer({ min: 0, max: 5 }).map((n) => ({ ...V.spec(`generatorObject(tag, ${n})`, (tag) => V.generatorObject(tag, n)), plain: true, consumable: true })),
    nullishSpec,
    V.values('abc', new Set([1, 2]), new Map([[1, 2]]), new Uint8Array([1, 2])),
  )),
  kwargs: V.mostly(fc.oneof(nullishSpec, V.values({}, { a: 1 }, Object.freeze({ b: 2 }), new Date(0)))),
  verbose: V.fuzzValue,
  daemon: V.mostly(V.values(true, false, null, undefined)),
  stackSize: V.mostly(fc.oneof({ arbitrary: V.validStack, weight: 3 }, { arbitrary: nullishSpec, weight: 1 }, { arbitrary: V.nearlyValidStack, weight: 1 })),
};
const positionTags = ['group', 'target', 'name', 'args', 'kwargs', 'verbose', 'extra'];

const UNKNOWN_KEYS = ['deamon', 'Target', '', 'constructor', 'toString', '__proto__', '0', 'stack_size', 'timeout'];
const SAFE_FORMS = ['plain', 'nullProto', 'frozen', 'inherited', 'getters', 'classInstance', 'passProxy', 'array', 'symbolKey'];
const HOSTILE_FORMS = ['throwingProxy', 'ownKeysThrows', 'getThrows', 'gopdThrows', 'revoked', 'getterThrows'];

class OptionsBag { constructor(entries) { for (const [k, v] of entries) Object.defineProperty(this, k, { value: v, enumerable: true, writable: true }); } }

/** Builds the options object in `form` from `entries`; user code in it throws with tag 'options'. */
function optionsIn(form, entries) {
  const tag = 'options';
  const define = (object) => {
    for (const [k, v] of entries) Object.defineProperty(object, k, { value: v, enumerable: true, writable: true, configurable: true });
    return object;
  };
  switch (form) {
    case 'plain': return define({});
    case 'nullProto': return define(Object.create(null));
    case 'frozen': return Object.freeze(define({}));
    case 'inherited': return Object.create(define({}));   // no own keys; destructuring still reads them
    case 'getters': {
      const object = {};
      for (const [k, v] of entries) Object.defineProperty(object, k, { get: () => v, enumerable: true });
      return object;
    }
    case 'classInstance': return new OptionsBag(entries);
    case 'passProxy': return new Proxy(define({}), {});
    case 'array': return define([]);
    case 'symbolKey': return Object.assign(define({}), { [Symbol('ignored')]: 'not an option' });
    case 'throwingProxy': return V.throwingProxy(tag);
    case 'ownKeysThrows': return new Proxy(define({}), { ownKeys: () => V.userThrow(tag, 'ownKeys') });
    case 'getThrows': return new Proxy(define({}), { get: () => V.userThrow(tag, 'get') });
    case 'gopdThrows': return new Proxy(define({}), { getOwnPropertyDescriptor: () => V.userThrow(tag, 'getOwnPropertyDescriptor') });
    case 'revoked': return V.revoked(tag);
    case 'getterThrows': return V.getterThrows(tag, entries[0]?.[0] ?? 'target', define({}));
    default: throw new Error(form);
  }
}

const optionsArbitrary = fc.record({
  leaves: fc.record(leafFor, { requiredKeys: [] }),
  unknown: fc.option(fc.tuple(fc.constantFrom(...UNKNOWN_KEYS), V.fuzzValue), { freq: 4 }),
  form: fc.oneof({ arbitrary: fc.constantFrom(...SAFE_FORMS), weight: 4 }, { arbitrary: fc.constantFrom(...HOSTILE_FORMS), weight: 1 }),
}).map(({ leaves, unknown, form }) => {
  const specs = Object.entries(leaves);
  if (unknown !== null) specs.push(unknown);
  const label = `${form}({ ${specs.map(([k, s]) => `${JSON.stringify(k)}: ${s.label}`).join(', ')} })`;
  return { specs, form, [fc.toStringMethod]: () => label };
});

// ---------------------------------------------------------------------------------------------
// Properties.

fuzz('new BackgroundThread(options): documented errors only; when accepted it starts, runs and joins', optionsArbitrary, async ({ specs, form }) => {
  const entries = specs.map(([key, s]) => [key, s.make(key)]);
  const options = optionsIn(form, entries);
  const values = Object.fromEntries(entries);
  const plain = SAFE_FORMS.includes(form) && specs.every(([, s]) => s.plain) && V.attempt(() => String(values.name)).ok;
  const argsSpec = specs.find(([k]) => k === 'args')?.[1];
  const argsExpected = argsSpec ? expectedArgs(argsSpec, values.args) : [];
  const codes = plain ? [...V.constructorCodes([options])] : null;
  const inputs = [{ value: options, tag: 'options' }, ...entries.map(([tag, value]) => ({ value, tag }))];
  const outcome = V.attempt(() => new BackgroundThread(options));
  if (codes !== null && codes.length === 0 && !outcome.ok) fail(`valid options rejected: ${V.describeError(outcome.error)}`);
  if (codes !== null && codes.length > 0 && outcome.ok) fail(`invalid options accepted (expected ${codes})`);
  V.expectAllowed(outcome, { codes: codes ?? CONSTRUCTOR_CODES, userTags: ['options', 'args', 'name'], inputs }, 'new BackgroundThread(options)');
  // A thread accepted from a form whose reads are transparent is then exercised in full.
  if (outcome.ok && SAFE_FORMS.includes(form)) {
    const read = V.readParams([options]).options;
    await exerciseThread(outcome.value, read, read.args === values.args ? argsExpected : undefined);
  } else if (outcome.ok) {
    startAccepted(outcome.value);
  }
}, 500);

const positionalArbitrary = fc.record({
  leaves: fc.tuple(leafFor.group, leafFor.target, leafFor.name, leafFor.args, leafFor.kwargs, leafFor.verbose, V.fuzzValue),
  length: fc.oneof({ arbitrary: fc.integer({ min: 0, max: 6 }), weight: 6 }, { arbitrary: fc.constant(7), weight: 1 }),
}).map(({ leaves, length }) => {
  const specs = leaves.slice(0, length);
  const label = `new BackgroundThread(${specs.map((s) => s.label).join(', ')})`;
  return { specs, [fc.toStringMethod]: () => label };
});

fuzz('new BackgroundThread(group, target, name, args, kwargs, verbose): documented errors only', positionalArbitrary, async ({ specs }) => {
  const params = specs.map((s, i) => s.make(positionTags[i]));
  const plain = specs.every((s) => s.plain) && V.attempt(() => String(params[2])).ok;
  const { form, options: read } = plain ? V.readParams(params) : { form: undefined, options: undefined };
  const codes = plain ? [...V.constructorCodes(params)] : null;
  const inputs = params.map((value, i) => ({ value, tag: positionTags[i] }));
  // One object argument is the options form: its reads may run the caller's code too.
  const userTags = ['args', 'name', ...(params.length === 1 && isObjectLike(params[0]) ? ['group'] : [])];
  const argsExpected = plain && form === 'positional' ? expectedArgs(specs[3] ?? { plain: true }, params[3]) : undefined;
  const outcome = V.attempt(() => new BackgroundThread(...params));
  if (codes !== null && codes.length === 0 && !outcome.ok) fail(`valid arguments rejected: ${V.describeError(outcome.error)}`);
  if (codes !== null && codes.length > 0 && outcome.ok) fail(`invalid arguments accepted (expected ${codes})`);
  V.expectAllowed(outcome, { codes: codes ?? CONSTRUCTOR_CODES, userTags, inputs }, 'new BackgroundThread(...)');
  if (outcome.ok && plain) await exerciseThread(outcome.value, read, argsExpected);
  else if (outcome.ok) startAccepted(outcome.value);
}, 500);

const validOptions = fc.record({
  name: fc.oneof(V.nameString, fc.integer(), fc.constant(null)),
  stackSize: fc.oneof(fc.constantFrom(0, null, undefined, V.MIN_STACK, V.MAX_STACK), fc.integer({ min: V.MIN_STACK, max: 4 << 20 })),
  daemon: fc.constantFrom(true, false, null, undefined),
  args: fc.array(fc.anything({ maxDepth: 1 }), { maxLength: 5 }),
  kwargs: fc.oneof(fc.constant(null), fc.object({ maxDepth: 1 })),
}, { requiredKeys: [] });

fuzz('start() with any valid options: a real OS thread carrying the name, joined, target called right', validOptions, async (options) => {
  const target = V.fn('target', 'recorder');
  const t = new BackgroundThread({ ...options, target });
  await exerciseThread(t, { ...options, target }, options.args ?? []);
}, 300);

// join / joinSync with any timeout, in each state.
const joinArbitrary = fc.record({
  // settling: the target has settled and the OS thread is ending, not yet joined (a real native wait).
  state: fc.constantFrom('initial', 'started', 'settling', 'stopped'),
  calls: fc.array(fc.record({ sync: fc.boolean(), timeout: V.timeoutValue }), { minLength: 1, maxLength: 6 }),
});

fuzz('join(x) always returns a Promise, joinSync(x) throws only documented errors, in every state', joinArbitrary, async ({ state, calls }) => {
  const gate = deferred();
  let ran = false;
  const t = new BackgroundThread({ target: () => { ran = true; return gate.promise; } });
  if (state !== 'initial') { t.start(); track(t); }
  if (state === 'stopped') {
    gate.resolve();
    if (await t.join() !== true) fail('join() of a finished target is not true');
  }
  if (state === 'settling') {
    gate.resolve();
    while (!ran) await nextTurn();
    await nextTurn();   // the target's Promise has settled in the turn it ran: the OS thread is ending
  }
  const pending = [];
  for (const { sync, timeout } of calls) {
    const x = timeout.make('timeout');
    const valid = V.isValidTimeout(x);
    const seconds = valid ? V.timeoutSeconds(x) : undefined;
    const context = { inputs: [{ value: x, tag: 'timeout' }] };
    if (sync) {
      const outcome = V.attempt(() => t.joinSync(x));
      const what = `joinSync(${timeout.label}) when ${state}`;
      if (state === 'initial') {
        if (outcome.ok) fail(`${what} returned ${outcome.value}`);
        V.expectAllowed(outcome, { ...context, codes: valid ? ['ERR_THREAD_NOT_STARTED'] : ['ERR_THREAD_NOT_STARTED', V.timeoutCode(x)] }, what);
      } else if (!valid) {
        if (outcome.ok) fail(`${what} returned ${outcome.value}`);
        V.expectAllowed(outcome, { ...context, codes: [V.timeoutCode(x)] }, what);
      } else if (state === 'stopped') {
        if (!outcome.ok || outcome.value !== true) fail(`${what}: ${outcome.ok ? outcome.value : V.describeError(outcome.error)}`);
      } else if (state === 'settling') {
        // A timed native wait for a thread that is ending: true unless the wait is (near) zero.
        if (!outcome.ok || typeof outcome.value !== 'boolean') fail(`${what}: ${outcome.ok ? outcome.value : V.describeError(outcome.error)}`);
        if ((seconds < 0 || seconds >= 1) && outcome.value !== true) fail(`${what} (seconds ${seconds}) returned false for an ending thread`);
      } else if (seconds === 0) {
        if (!outcome.ok || outcome.value !== false) fail(`${what} (a poll of a live thread): ${outcome.ok ? outcome.value : V.describeError(outcome.error)}`);
      } else {
        if (outcome.ok) fail(`${what} returned ${outcome.value} while the target needs this loop`);
        V.expectAllowed(outcome, { ...context, codes: ['ERR_JOIN_WOULD_DEADLOCK'] }, what);
      }
    } else {
      const outcome = V.attempt(() => t.join(x));
      const what = `join(${timeout.label}) when ${state}`;
      if (!outcome.ok) fail(`${what} threw synchronously: ${V.describeError(outcome.error)}`);
      if (!(outcome.value instanceof Promise)) fail(`${what} returned ${show(outcome.value)}, not a Promise`);
      pending.push(outcome.value.then((value) => ({ ok: true, value }), (error) => ({ ok: false, error }))
        .then((result) => ({ result, what, valid, seconds, x, context })));
    }
  }
  gate.resolve();
  for (const { result, what, valid, seconds, x, context } of await Promise.all(pending)) {
    if (state === 'initial') {
      if (result.ok) fail(`${what} resolved ${result.value}`);
      V.expectAllowed(result, { ...context, codes: valid ? ['ERR_THREAD_NOT_STARTED'] : ['ERR_THREAD_NOT_STARTED', V.timeoutCode(x)] }, what);
    } else if (!valid) {
      if (result.ok) fail(`${what} resolved ${result.value}`);
      V.expectAllowed(result, { ...context, codes: [V.timeoutCode(x)] }, what);
    } else if (!result.ok) {
      fail(`${what} rejected: ${V.describeError(result.error)}`);
    } else if (typeof result.value !== 'boolean') {
      fail(`${what} resolved ${show(result.value)}`);
    } else if (state === 'stopped' && result.value !== true) {
      fail(`${what} of an ended thread resolved false`);
    } else if (state === 'settling' && (seconds < 0 || seconds >= 5) && result.value !== true) {
      fail(`${what} (seconds ${seconds}) of an ending thread resolved false`);
    } else if (state === 'started' && seconds === 0 && result.value !== false) {
      fail(`${what}: a poll of a live thread resolved true`);
    } else if (state === 'started' && (seconds < 0 || seconds >= 5) && result.value !== true) {
      fail(`${what} (seconds ${seconds}) resolved false although the thread ended at once`);
    }
  }
  if (state === 'initial') { t.start(); track(t); }   // still usable
  if (await t.join() !== true || t.isAlive()) fail('the thread did not end after the bad joins');
}, 400);

// The object stays usable: arbitrary sequences of name/daemon/join/start calls, checked against a model.
const OPS = ['name=', 'setName', 'daemon=', 'setDaemon', 'join', 'joinSync', 'start', 'inspect'];
const opArbitrary = fc.record({
  op: fc.constantFrom(...OPS),
  value: fc.oneof({ arbitrary: V.values(true, false, 'n', 0, 1, null, undefined, 0.01), weight: 1 }, { arbitrary: V.fuzzValue, weight: 2 }),
});
const usabilityArbitrary = fc.record({
  before: fc.array(opArbitrary, { maxLength: 6 }),
  during: fc.array(opArbitrary, { maxLength: 6 }),
  after: fc.array(opArbitrary, { maxLength: 4 }),
});

fuzz('after any bad call the thread is as it was, and still starts and joins', usabilityArbitrary, async ({ before, during, after }) => {
  const gate = deferred();
  const target = V.fn('target', 'recorder');
  const t = new BackgroundThread({ target: (...args) => { target(...args); return gate.promise; }, args: [1, 2] });
  const model = { name: t.name, daemon: false, state: 'initial', ident: null };
  const pending = [];
  const check = (where) => {
    if (t.name !== model.name || t.getName() !== model.name) fail(`${where}: name ${show(t.name)}, model ${show(model.name)}`);
    if (t.daemon !== model.daemon || t.isDaemon() !== model.daemon) fail(`${where}: daemon ${t.daemon}, model ${model.daemon}`);
    if (t.isAlive() !== (model.state === 'started')) fail(`${where}: isAlive ${t.isAlive()} in state ${model.state}`);
    if (t.ident !== model.ident) fail(`${where}: ident ${t.ident}, model ${model.ident}`);
  };
  const apply = ({ op, value: valueSpec }) => {
    const value = valueSpec.make(op === 'name=' || op === 'setName' ? 'name' : op);
    const what = `${op}(${valueSpec.label}) when ${model.state}`;
    const inputs = [{ value, tag: op === 'name=' || op === 'setName' ? 'name' : op }];
    switch (op) {
      case 'name=': case 'setName': {
        const expected = V.attempt(() => String(value));
        const outcome = V.attempt(() => (op === 'name=' ? (t.name = value) : t.setName(value)));
        if (outcome.ok !== expected.ok) fail(`${what}: ${outcome.ok ? 'accepted' : 'rejected'} but String() ${expected.ok ? 'works' : 'throws'}`);
        if (outcome.ok) model.name = expected.value;
        else V.expectAllowed(outcome, { codes: [], userTags: ['name'], inputs }, what);
        break;
      }
      case 'daemon=': case 'setDaemon': {
        const outcome = V.attempt(() => (op === 'daemon=' ? (t.daemon = value) : t.setDaemon(value)));
        if (model.state !== 'initial') {
          if (outcome.ok) fail(`${what} succeeded`);
          V.expectAllowed(outcome, { codes: typeof value === 'boolean' ? ['ERR_THREAD_ACTIVE'] : ['ERR_THREAD_ACTIVE', 'ERR_INVALID_ARG_TYPE'], inputs }, what);
        } else if (typeof value === 'boolean') {
          if (!outcome.ok) fail(`${what}: ${V.describeError(outcome.error)}`);
          model.daemon = value;
        } else {
          if (outcome.ok) fail(`${what} accepted a non-boolean`);
          V.expectAllowed(outcome, { codes: ['ERR_INVALID_ARG_TYPE'], inputs }, what);
        }
        break;
      }
      case 'join': {
        const outcome = V.attempt(() => t.join(value));
        if (!outcome.ok || !(outcome.value instanceof Promise)) fail(`${what} did not return a Promise`);
        const state = model.state;
        const checked = outcome.value.then((v) => {
          if (state === 'initial' || !V.isValidTimeout(value)) fail(`${what} resolved ${v}`);
          if (typeof v !== 'boolean') fail(`${what} resolved ${show(v)}`);
        }, (error) => {
          const codes = [...(state === 'initial' ? ['ERR_THREAD_NOT_STARTED'] : []), ...(V.isValidTimeout(value) ? [] : [V.timeoutCode(value)])];
          if (codes.length === 0) fail(`${what} rejected: ${V.describeError(error)}`);
          V.expectAllowed({ ok: false, error }, { codes, inputs }, what);
        });
        checked.catch(() => {});   // awaited below; must not be an unhandled rejection if the run fails first
        pending.push(checked);
        break;
      }
      case 'joinSync': {
        const outcome = V.attempt(() => t.joinSync(value));
        const valid = V.isValidTimeout(value);
        const codes = {
          initial: ['ERR_THREAD_NOT_STARTED', ...(valid ? [] : [V.timeoutCode(value)])],
          started: valid ? ['ERR_JOIN_WOULD_DEADLOCK'] : [V.timeoutCode(value)],
          stopped: valid ? [] : [V.timeoutCode(value)],
        }[model.state];
        if (outcome.ok) {
          const expected = model.state === 'stopped' ? true : model.state === 'started' && V.timeoutSeconds(value) === 0 ? false : undefined;
          if (!valid || outcome.value !== expected) fail(`${what} returned ${outcome.value}`);
        } else {
          V.expectAllowed(outcome, { codes, inputs }, what);
        }
        break;
      }
      case 'start': {
        const outcome = V.attempt(() => t.start(value));
        if (model.state === 'initial') {
          if (!outcome.ok) fail(`${what} (start ignores its arguments): ${V.describeError(outcome.error)}`);
          model.state = 'started';
          model.ident = t.ident;
          track(t);
        } else {
          if (outcome.ok) fail(`${what} succeeded twice`);
          V.expectAllowed(outcome, { codes: ['ERR_THREAD_ALREADY_STARTED'] }, what);
        }
        break;
      }
      case 'inspect':
        String(t); inspect(t); t.toString(value);
        break;
      default: throw new Error(op);
    }
    check(what);
  };
  for (const op of before) apply(op);
  if (model.state === 'initial') apply({ op: 'start', value: V.spec('undefined', () => undefined, { plain: true }) });
  for (const op of during) apply(op);
  gate.resolve();
  if (await t.join() !== true) fail('join() after the bad calls did not resolve true');
  model.state = 'stopped';
  check('after join');
  for (const op of after) apply(op);
  await Promise.all(pending);
  const got = V.recorded.get(target);
  if (got?.length !== 2 || got[0] !== 1 || got[1] !== 2) fail(`the target got ${show(got)}`);
}, 400);

const startNewArbitrary = fc.record({
  target: fc.oneof({ arbitrary: V.ownFunction, weight: 3 }, { arbitrary: V.fuzzValue, weight: 2 }),
  args: leafFor.args,
  kwargs: leafFor.kwargs,
  arity: fc.integer({ min: 0, max: 4 }),
});

fuzz('startNewBackgroundThread(target, args, kwargs): documented errors, or an ident of a live thread', startNewArbitrary, async ({ target, args, kwargs, arity }) => {
  const params = [target.make('target'), args.make('args'), kwargs.make('kwargs'), 'extra'].slice(0, arity);
  const [t0, a0, k0] = params;
  const plain = [target, args, kwargs].every((s) => s.plain);
  const codes = [];
  if (typeof t0 !== 'function') codes.push('ERR_INVALID_ARG_TYPE');
  if (plain && !V.nullish(a0) && !V.isIterable(a0)) codes.push('ERR_INVALID_ARG_TYPE');
  if (plain && !V.nullish(k0) && (typeof k0 !== 'object' || Array.isArray(k0))) codes.push('ERR_INVALID_ARG_TYPE');
  const argsExpected = plain && arity >= 2 ? expectedArgs(args, a0) : (arity < 2 ? [] : undefined);
  const inputs = params.map((value, i) => ({ value, tag: ['target', 'args', 'kwargs', 'extra'][i] }));
  const outcome = V.attempt(() => startNewBackgroundThread(...params));
  if (plain && codes.length === 0 && !outcome.ok) fail(`valid call rejected: ${V.describeError(outcome.error)}`);
  if (codes.length > 0 && outcome.ok) fail(`invalid call accepted (expected ${codes})`);
  V.expectAllowed(outcome, { codes: ['ERR_INVALID_ARG_TYPE'], userTags: ['args'], inputs }, 'startNewBackgroundThread');
  if (!outcome.ok) return;
  const ident = outcome.value;
  if (!Number.isSafeInteger(ident) || ident <= 0) fail(`returned ${show(ident)}, not an ident`);
  const t = enumerate().find((thread) => thread.ident === ident);
  if (t === undefined || !t.isAlive()) fail(`no live thread with ident ${ident} in enumerate()`);
  track(t);
  if (await t.join(10) !== true) fail('the thread did not end');
  if (isObjectLike(t0) && V.recorders.has(t0)) {
    const got = V.recorded.get(t0);
    const want = argsExpected === undefined ? undefined : [...argsExpected, ...(arity >= 3 && !V.nullish(k0) ? [k0] : [])];
    if (got === undefined) fail('the target was not called');
    if (want !== undefined && !sameArgs(got, want)) {
      fail(`the target got ${got.length} arguments, expected ${want.length}: ${show(got.slice(0, 5))} vs ${show(want.slice(0, 5))}`);
    }
  }
}, 400);

fuzz('joinAll(x) always returns a Promise; it resolves a boolean or rejects as documented', fc.record({ withThread: fc.boolean(), timeout: V.timeoutValue }), async ({ withThread, timeout }) => {
  const gate = deferred();
  if (withThread) track(new BackgroundThread({ target: () => gate.promise })).start();
  const x = timeout.make('timeout');
  const outcome = V.attempt(() => joinAll(x));
  if (!outcome.ok) fail(`joinAll threw synchronously: ${V.describeError(outcome.error)}`);
  if (!(outcome.value instanceof Promise)) fail('joinAll did not return a Promise');
  setImmediate(() => gate.resolve());
  const result = await outcome.value.then((value) => ({ ok: true, value }), (error) => ({ ok: false, error }));
  gate.resolve();
  if (!V.isValidTimeout(x)) {
    if (result.ok) fail(`joinAll(${timeout.label}) resolved ${result.value}`);
    V.expectAllowed(result, { codes: [V.timeoutCode(x)], inputs: [{ value: x, tag: 'timeout' }] }, 'joinAll');
    return;
  }
  if (!result.ok) fail(`joinAll(${timeout.label}) rejected: ${V.describeError(result.error)}`);
  const seconds = V.timeoutSeconds(x);
  if (typeof result.value !== 'boolean') fail(`joinAll resolved ${show(result.value)}`);
  if (!withThread && result.value !== true) fail('joinAll with no live thread resolved false');
  if (withThread && seconds === 0 && result.value !== false) fail('joinAll(0) with a live thread resolved true');
  if (withThread && (seconds < 0 || seconds >= 5) && result.value !== true) fail(`joinAll(${timeout.label}) resolved false`);
}, 300);

fuzz('stackSize(x): returns the old value; sets valid sizes only; threads still start', fc.record({
  x: V.mostly(fc.oneof(V.validStack, V.values(undefined), V.nearlyValidStack), 2),
  first: V.validStack,
}), async ({ x: xSpec, first }) => {
  stackSize(first.make());
  const previous = stackSize();
  const x = xSpec.make('size');
  const outcome = V.attempt(() => stackSize(x));
  const valid = x === undefined || V.isValidStack(x);
  if (valid) {
    if (!outcome.ok) fail(`stackSize(${xSpec.label}) rejected: ${V.describeError(outcome.error)}`);
    if (!Object.is(outcome.value, previous)) fail(`stackSize(${xSpec.label}) returned ${outcome.value}, not ${previous}`);
    // x + 0: -0 is stored as 0.
    if (!Object.is(stackSize(), x === undefined ? previous : x + 0)) fail(`stackSize() is ${stackSize()} after stackSize(${xSpec.label})`);
  } else {
    if (outcome.ok) fail(`stackSize(${xSpec.label}) accepted`);
    V.expectAllowed(outcome, { codes: [V.stackCode(x)], inputs: [{ value: x, tag: 'size' }] }, `stackSize(${xSpec.label})`);
    if (!Object.is(stackSize(), previous)) fail('a rejected stackSize() changed the setting');
  }
  const t = new BackgroundThread({ target: () => {} });
  const start = V.attempt(() => t.start());
  if (start.ok) track(t);
  else V.expectAllowed(start, { codes: ['ERR_THREAD_RESOURCES_EXHAUSTED'] }, `start() with stackSize() ${stackSize()}`);
}, 300);

fuzz('setMaxBackgroundThreads(x): valid caps apply exactly, bad ones change nothing', fc.record({
  x: V.mostly(fc.oneof(V.values(Infinity, 0, -0), fc.integer({ min: 0, max: 5 }).map((n) => V.spec(String(n), () => n, { plain: true }))), 2),
  alive: fc.integer({ min: 0, max: 3 }),
}), async ({ x: xSpec, alive }) => {
  const gate = deferred();
  for (let i = 0; i < alive; i++) track(new BackgroundThread({ target: () => gate.promise, daemon: i % 2 === 1 })).start();
  const live = activeCount() - 1;   // the cap counts live background threads, daemon or not
  const x = xSpec.make('n');
  const outcome = V.attempt(() => setMaxBackgroundThreads(x));
  const valid = V.isValidCount(x);
  if (valid && !outcome.ok) fail(`setMaxBackgroundThreads(${xSpec.label}) rejected: ${V.describeError(outcome.error)}`);
  if (!valid) {
    if (outcome.ok) fail(`setMaxBackgroundThreads(${xSpec.label}) accepted`);
    V.expectAllowed(outcome, { codes: [typeof x === 'number' ? 'ERR_OUT_OF_RANGE' : 'ERR_INVALID_ARG_TYPE'], inputs: [{ value: x, tag: 'n' }] }, 'setMaxBackgroundThreads');
  }
  const cap = valid ? x : Infinity;
  const t = new BackgroundThread({ target: () => {} });
  const start = V.attempt(() => t.start());
  if (live < cap) {
    if (!start.ok) fail(`start() with ${live} alive and cap ${cap}: ${V.describeError(start.error)}`);
    track(t);
  } else {
    if (start.ok) { track(t); fail(`start() with ${live} alive passed the cap ${cap}`); }
    V.expectAllowed(start, { codes: ['ERR_THREAD_LIMIT_REACHED'] }, 'start() over the cap');
    if (t.isAlive() || t.ident !== null) fail('a refused thread looks started');
    // startNewBackgroundThread over the cap: the same error, and no OS thread behind it.
    const tids = tasks();
    const refused = V.attempt(() => startNewBackgroundThread(() => {}));
    if (refused.ok) fail(`startNewBackgroundThread with ${live} alive passed the cap ${cap}`);
    V.expectAllowed(refused, { codes: ['ERR_THREAD_LIMIT_REACHED'] }, 'startNewBackgroundThread over the cap');
    if (tasks().length !== tids.length || activeCount() - 1 !== live) fail('a refused startNewBackgroundThread left a thread');
    setMaxBackgroundThreads(Infinity);
    t.start();   // left unstarted, so it can be started later
    track(t);
  }
  gate.resolve();
}, 300);

// Hooks of this test's making, well- and ill-behaved.
const hookKinds = {
  recording: () => recordingHook,
  throwing: () => () => V.userThrow('hook', 'hook body'),
  asyncThrowing: () => async () => V.userThrow('hook', 'async hook body'),
  rejectedWithThrowingCatch: () => () => {
    const p = Promise.reject(new V.FuzzUserError('hook', 'rejection of a hook result'));
    p.catch = () => V.userThrow('hook', 'catch of the hook result');
    return p;
  },
  throwsRevoked: () => () => { throw V.revoked('hook'); },
  revoked: () => V.revoked('hook', 'function'),
  proxyApplyThrows: () => V.throwingProxy('hook', 'function', 'apply'),
  returnsThenable: () => () => ({ then() { throw new Error('never called'); } }),
};
const FAILING_HOOKS = ['throwing', 'asyncThrowing', 'rejectedWithThrowingCatch', 'throwsRevoked', 'revoked', 'proxyApplyThrows'];
const hookArbitrary = fc.oneof(
  { arbitrary: V.values(null), weight: 1 },
  { arbitrary: fc.constantFrom(...Object.keys(hookKinds)).map((kind) => ({ ...V.spec(`hook:${kind}`, hookKinds[kind]), hookKind: kind })), weight: 3 },
  { arbitrary: V.fuzzValue, weight: 3 },
);

fuzz('setExcepthook(x): sets functions and null only; any accepted hook leaves the process unharmed', hookArbitrary, async (hookSpec) => {
  const previous = getExcepthook();
  const hook = hookSpec.make('hook');
  const outcome = V.attempt(() => setExcepthook(hook));
  const valid = hook === null || typeof hook === 'function';
  if (!valid) {
    if (outcome.ok) fail(`setExcepthook(${hookSpec.label}) accepted`);
    V.expectAllowed(outcome, { codes: ['ERR_INVALID_ARG_TYPE'], inputs: [{ value: hook, tag: 'hook' }] }, 'setExcepthook');
    if (getExcepthook() !== previous) fail('a rejected hook replaced the previous one');
    return;
  }
  if (!outcome.ok) fail(`setExcepthook(${hookSpec.label}) rejected: ${V.describeError(outcome.error)}`);
  if (getExcepthook() !== (hook === null ? excepthook : hook)) fail('getExcepthook() is not the hook just set');
  // A thread whose target throws goes through the hook; whatever the hook does, nothing escapes.
  const stderr = captureStderr();
  const thrown = new Error('thrown by the target');
  let t;
  try {
    // Daemon: should a hook's failure keep the thread from ending, it must not hold the test run open.
    t = track(new BackgroundThread({ name: 'fuzz-hook', daemon: true, target: () => { throw thrown; } }));
    t.start();
    if (await t.join(10) !== true) fail('the thread did not end');
    await nextTurn();
  } finally {
    stderr.restore();
  }
  if (hook === recordingHook) {
    const [args, more] = hookCalls;
    if (more !== undefined || args?.excValue !== thrown || args.thread !== t || !Object.isFrozen(args)) fail('the hook did not get the thread\'s exception');
  } else if (hook === null) {
    if (!stderr.text.includes('Exception in thread fuzz-hook:')) fail(`default hook wrote ${show(stderr.text)}`);
  } else if (FAILING_HOOKS.includes(hookSpec.hookKind) && !stderr.text.includes('Exception in threading.excepthook:')) {
    fail(`a failing hook is not reported on stderr: ${show(stderr.text)}`);
  }
}, 300);

const mainOps = ['name=', 'setName', 'daemon=', 'setDaemon', 'join', 'joinSync', 'start', 'run', 'queries'];
fuzz('mainThread() methods with any arguments: documented errors only, still the main thread', fc.array(fc.record({
  op: fc.constantFrom(...mainOps), value: V.fuzzValue,
}), { minLength: 1, maxLength: 6 }), async (ops) => {
  const main = mainThread();
  let name = main.name;
  for (const { op, value: valueSpec } of ops) {
    const tag = op === 'name=' || op === 'setName' ? 'name' : op;
    const value = valueSpec.make(tag);
    const inputs = [{ value, tag }];
    const what = `mainThread().${op}(${valueSpec.label})`;
    switch (op) {
      case 'name=': case 'setName': {
        const expected = V.attempt(() => String(value));
        const outcome = V.attempt(() => (op === 'name=' ? (main.name = value) : main.setName(value)));
        if (outcome.ok !== expected.ok) fail(`${what}: ${outcome.ok ? 'accepted' : 'rejected'} but String() ${expected.ok ? 'works' : 'throws'}`);
        if (outcome.ok) name = expected.value;
        else V.expectAllowed(outcome, { codes: [], userTags: ['name'], inputs }, what);
        break;
      }
      case 'daemon=': case 'setDaemon': {
        const outcome = V.attempt(() => (op === 'daemon=' ? (main.daemon = value) : main.setDaemon(value)));
        if (outcome.ok) fail(`${what} succeeded`);
        V.expectAllowed(outcome, { codes: ['ERR_THREAD_ACTIVE', 'ERR_INVALID_ARG_TYPE'], inputs }, what);
        break;
      }
      case 'join': {
        const outcome = V.attempt(() => main.join(value));
        if (!outcome.ok || !(outcome.value instanceof Promise)) fail(`${what} did not return a Promise`);
        const result = await outcome.value.then((v) => ({ ok: true, value: v }), (error) => ({ ok: false, error }));
        if (result.ok) fail(`${what} resolved ${result.value}`);
        V.expectAllowed(result, { codes: ['ERR_JOIN_CURRENT_THREAD', ...TIMEOUT_CODES], inputs }, what);
        break;
      }
      case 'joinSync': case 'start': {
        const outcome = V.attempt(() => main[op](value));
        if (outcome.ok) fail(`${what} returned ${outcome.value}`);
        const codes = op === 'start' ? ['ERR_THREAD_ALREADY_STARTED'] : ['ERR_JOIN_CURRENT_THREAD', ...TIMEOUT_CODES];
        V.expectAllowed(outcome, { codes, inputs }, what);
        break;
      }
      case 'run': {
        const outcome = V.attempt(() => main.run(value));
        if (!outcome.ok) fail(`${what} threw ${V.describeError(outcome.error)}`);
        break;
      }
      case 'queries':
        if (main.isAlive(value) !== true || main.is_alive(value) !== true) fail('the main thread is not alive');
        if (main.isDaemon(value) !== false || main.is_daemon(value) !== false || main.daemon !== false) fail('the main thread is a daemon');
        String(main); inspect(main); main.toString(value);
        break;
      default: throw new Error(op);
    }
    if (main.name !== name || main.getName() !== name) fail(`${what}: name ${show(main.name)}, expected ${show(name)}`);
    if (mainThread() !== main || currentThread() !== main) fail('mainThread()/currentThread() changed');
  }
}, 300);

fuzz('currentThread/enumerate/activeCount/getExcepthook ignore any arguments', fc.array(V.fuzzValue, { maxLength: 3 }), async (specs) => {
  const args = specs.map((s, i) => s.make(`arg${i}`));
  const gate = deferred();
  const t = track(new BackgroundThread({ target: () => gate.promise }));
  t.start();
  if (currentThread(...args) !== mainThread()) fail('currentThread() is not the main thread');
  const list = enumerate(...args);
  if (list[0] !== mainThread() || !list.includes(t)) fail('enumerate() lost a thread');
  if (activeCount(...args) !== list.length) fail('activeCount() disagrees with enumerate()');
  if (getExcepthook(...args) !== recordingHook) fail('getExcepthook() changed');
  gate.resolve();
}, 200);

// The exported default hook is public too: called with anything, it writes to stderr or throws
// a documented error (or the caller's own error: it reads args.thread.name).
fuzz('excepthook(x), the exported default hook, with any argument: documented errors only', V.fuzzValue, async (xSpec) => {
  const x = xSpec.make('args');
  const stderr = captureStderr();
  let outcome;
  try {
    outcome = V.attempt(() => excepthook(x));
  } finally {
    stderr.restore();
  }
  V.expectAllowed(outcome, { userTags: ['args'], inputs: [{ value: x, tag: 'args' }] }, `excepthook(${xSpec.label})`);
  if (outcome.ok && !stderr.text.startsWith('Exception in thread ')) fail(`excepthook wrote ${show(stderr.text)}`);
}, 200);

// What a target throws or returns (hostile thenables included): run in a child process, because
// a failure there can leave a thread that never ends, which must not leak into this process.
test('targets that throw or return anything (fuzz, in a child process): no crash, no leak, hook called', async () => {
  const child = fileURLToPath(new URL('./fixtures/fuzz-thread-results.mjs', import.meta.url));
  const { code, signal, stdout, stderr } = await new Promise((resolve) => {
    execFile(process.execPath, [child], {
      env: { ...process.env, FUZZ_SEED: String(SEED), FUZZ_RUNS: String(runs(400)) },
      timeout: 60_000, maxBuffer: 64 << 20,
    }, (error, out, err) => resolve({ code: error?.code ?? 0, signal: error?.signal ?? null, stdout: out, stderr: err }));
  });
  assert.is(signal, null, `the child was killed (${signal}); stderr: ${stderr.slice(-2000)}`);
  const line = stdout.trim().split('\n').at(-1) ?? '';
  let report;
  try { report = JSON.parse(line); } catch { assert.unreachable(`no report from the child (exit ${code}); stderr: ${stderr.slice(-2000)}`); }
  if (report.failure !== null) assert.unreachable(`property failed in the child:\n${report.failure}`);
  const kinds = Object.entries(report.failingKinds).map(([kind, why]) => `${kind}: ${why}`);
  if (kinds.length > 0) assert.unreachable(`target results that fail:\n${kinds.join('\n')}`);
  assert.equal(report.leakedTids, [], 'OS threads left over in the child');
  assert.is(code, 0, `child exit code; stderr: ${stderr.slice(-2000)}`);
});

test.run();
