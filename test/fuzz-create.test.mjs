// Creating threads from fuzzed input, property-based (fast-check; the harness and its per-run
// checks are in helpers/fuzz.mjs): new BackgroundThread(options) and the positional form
// (group, target, name, args, kwargs, verbose) with arbitrary values in every position and option,
// options objects of every shape (null prototype, frozen, inherited, getters, proxies, throwing
// traps, revoked), and startNewBackgroundThread(target, args, kwargs). Bad input gets a
// documented error with its stable code, computed from the input where it is plain, or the
// caller's own error unchanged where the package must run the caller's code (never a crash, a
// hang or a silent default); valid input is accepted, and the thread then starts as a real OS
// thread carrying its name, calls its target with its args and kwargs, and joins.
import { test } from 'uvu';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { inspect, isDeepStrictEqual } from 'node:util';
import { BackgroundThread, enumerate, startNewBackgroundThread } from 'background-thread';
import { fail, fuzzer, hookCalls, show, startAccepted, track } from './helpers/fuzz.mjs';
import * as V from './helpers/fuzz-values.mjs';
import { gone, linux } from './helpers/os-threads.mjs';

const fuzz = fuzzer(test);
const CONSTRUCTOR_CODES = ['ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_VALUE', 'ERR_OUT_OF_RANGE', 'ERR_ASSERTION'];
const isObjectLike = (v) => v !== null && (typeof v === 'object' || typeof v === 'function');

/**
 * The kernel's name for a thread named `name`: UTF-8, cut to 15 bytes on a character boundary, up
 * to a NUL.
 */
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

/**
 * The target's arguments against the expected ones: the same values (a Map's entries are fresh
 * arrays: equal).
 */
const sameArgs = (got, want) => got.length === want.length &&
  got.every((v, i) => Object.is(v, want[i]) || (Array.isArray(v) && isDeepStrictEqual(v, want[i])));

/** What `args` (plain, re-iterable) will be spread into the target, or undefined when unknown. */
function expectedArgs(argsSpec, args) {
  if (V.nullish(args)) return [];
  if (!argsSpec.plain || argsSpec.consumable) return undefined;
  return Array.from(args);
}

/**
 * A thread just constructed from these options: checks its initial state, then (its target being
 * null or a function of this test's making) starts it, checks it is a real OS thread carrying
 * its name, joins it, checks the OS thread is gone, and checks what the target got.
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

  // A huge (valid) stack the OS cannot give is the one documented way for start() to fail here.
  if (!startAccepted(t, 'start() of a valid thread')) {
    if (t.isAlive() || t.ident !== null) fail('a thread that failed to start looks started');
    return;
  }
  if (!t.isAlive() || !Number.isSafeInteger(t.ident) || t.ident <= 0 ||
    !Number.isInteger(t.nativeId)) {
    fail(`started thread: isAlive ${t.isAlive()}, ident ${t.ident}, nativeId ${t.nativeId}`);
  }
  if (linux) {
    // start() returns once the OS thread runs: it exists, and carries (a prefix of) the name.
    const comm = readFileSync(`/proc/self/task/${t.nativeId}/comm`).subarray(0, -1);
    const expected = expectedComm(t.name);
    if (!comm.equals(expected)) fail(`OS thread name ${show(comm.toString('latin1'))}, expected ${show(expected.toString('latin1'))} for ${show(t.name)}`);
  }

  const ended = await t.join(10);
  if (ended !== true) fail(`join(10) resolved ${ended}`);
  if (t.isAlive()) fail('isAlive() after join() resolved true');
  // pthread_join returns when the kernel clears the thread's tid, a moment before its /proc entry
  // goes: a leaked thread stays, an ended one is gone within that moment.
  if (linux && !await gone([t.nativeId])) fail(`OS thread ${t.nativeId} still exists 20 s after join()`);
  if (t.joinSync() !== true) fail('joinSync() of an ended thread is not true');
  checkTargetArgs(target, argsExpected, V.nullish(kwargs) ? [] : [kwargs]);
}

/** A recorder target got `argsExpected` (when known) and then `trailing` (kwargs, if any). */
function checkTargetArgs(target, argsExpected, trailing) {
  if (!isObjectLike(target) || !V.recorders.has(target)) return;
  const got = V.recorded.get(target);
  if (got === undefined) fail(`the target was not called (excepthook got: ${hookCalls().map((a) => V.describeError(a.excValue))})`);
  if (argsExpected !== undefined) {
    const want = [...argsExpected, ...trailing];
    if (!sameArgs(got, want)) {
      fail(`the target got ${got.length} arguments, expected ${want.length}: ${show(got.slice(0, 5))} vs ${show(want.slice(0, 5))}`);
    }
  } else if (trailing.length === 1 && got.at(-1) !== trailing[0]) {
    fail('kwargs is not the last argument');
  }
}

// ---------------------------------------------------------------------------------------------
// Arbitraries for the constructor.

const nullishSpec = V.values(null, undefined);
const leafFor = {
  group: V.mostly(nullishSpec, 8),
  target: V.mostly(fc.oneof({ arbitrary: V.ownFunction, weight: 3 },
    { arbitrary: nullishSpec, weight: 1 })),
  name: V.mostly(fc.oneof(V.nameString.map((s) => V.spec(show(s), () => s, { plain: true })),
    V.values(null, undefined, 0, 42, -0, NaN, 7n, 0n))),
  args: V.mostly(fc.oneof(
    fc.array(V.plainValue, { maxLength: 4 }).map((list) => V.spec(`[${list.map((s) => s.label)}]`, () => list.map((s) => s.make()), { plain: true })),
    fc.integer({ min: 0, max: 3000 }).map((n) => ({ ...V.spec(`boundedIterable(tag, ${n})`, (tag) => V.boundedIterable(tag, n)), plain: true })),
    fc.integer({ min: 0, max: 5 }).map((n) => ({ ...V.spec(`generatorObject(tag, ${n})`, (tag) => V.generatorObject(tag, n)), plain: true, consumable: true })),
    nullishSpec,
    V.values('abc', new Set([1, 2]), new Map([[1, 2]]), new Uint8Array([1, 2])),
  )),
  kwargs: V.mostly(fc.oneof(nullishSpec,
    V.values({}, { a: 1 }, Object.freeze({ b: 2 }), new Date(0)))),
  verbose: V.fuzzValue,
  daemon: V.mostly(V.values(true, false, null, undefined)),
  stackSize: V.mostly(fc.oneof({ arbitrary: V.validStack, weight: 3 },
    { arbitrary: nullishSpec, weight: 1 }, { arbitrary: V.nearlyValidStack, weight: 1 })),
};
const positionTags = ['group', 'target', 'name', 'args', 'kwargs', 'verbose', 'extra'];

const UNKNOWN_KEYS = ['deamon', 'Target', '', 'constructor', 'toString', '__proto__', '0', 'stack_size', 'timeout'];

/** Defines `entries` as plain own data properties of `object`. */
const define = (object, entries) => {
  for (const [k, v] of entries) {
    Object.defineProperty(object, k, { value: v, enumerable: true, writable: true,
      configurable: true });
  }
  return object;
};
class OptionsBag { constructor(entries) { define(this, entries); } }

/** Options objects whose reads run no user code: the constructor reads them as plain data. */
const SAFE_FORMS = {
  plain: (entries) => define({}, entries),
  nullProto: (entries) => define(Object.create(null), entries),
  frozen: (entries) => Object.freeze(define({}, entries)),
  inherited: (entries) => Object.create(define({}, entries)),   // no own keys; still read
  getters: (entries) => Object.defineProperties({},
    Object.fromEntries(entries.map(([k, v]) => [k, { get: () => v, enumerable: true }]))),
  classInstance: (entries) => new OptionsBag(entries),
  passProxy: (entries) => new Proxy(define({}, entries), {}),
  array: (entries) => define([], entries),
  symbolKey: (entries) => Object.assign(define({}, entries), { [Symbol('ignored')]: 'not an option' }),
};
/** Options objects whose reads throw the user's error (tag 'options') or the engine's. */
const HOSTILE_FORMS = {
  throwingProxy: () => V.throwingProxy('options'),
  ownKeysThrows: (entries) => new Proxy(define({}, entries), { ownKeys: () => V.userThrow('options', 'ownKeys') }),
  getThrows: (entries) => new Proxy(define({}, entries), { get: () => V.userThrow('options', 'get') }),
  gopdThrows: (entries) => new Proxy(define({}, entries), { getOwnPropertyDescriptor: () => V.userThrow('options', 'getOwnPropertyDescriptor') }),
  revoked: () => V.revoked('options'),
  getterThrows: (entries) => V.getterThrows('options', entries[0]?.[0] ?? 'target', define({}, entries)),
};
const isSafeForm = (form) => Object.hasOwn(SAFE_FORMS, form);

const optionsArbitrary = fc.record({
  leaves: fc.record(leafFor, { requiredKeys: [] }),
  unknown: fc.option(fc.tuple(fc.constantFrom(...UNKNOWN_KEYS), V.fuzzValue), { freq: 4 }),
  form: fc.oneof({ arbitrary: fc.constantFrom(...Object.keys(SAFE_FORMS)), weight: 4 },
    { arbitrary: fc.constantFrom(...Object.keys(HOSTILE_FORMS)), weight: 1 }),
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
  const options = (SAFE_FORMS[form] ?? HOSTILE_FORMS[form])(entries);
  const values = Object.fromEntries(entries);
  const plain = isSafeForm(form) && specs.every(([, s]) => s.plain) &&
    V.attempt(() => String(values.name)).ok;
  const argsSpec = specs.find(([k]) => k === 'args')?.[1];
  const argsExpected = argsSpec ? expectedArgs(argsSpec, values.args) : [];
  const codes = plain ? [...V.constructorCodes([options])] : null;
  const inputs = [{ value: options, tag: 'options' }, ...entries.map(([tag, value]) => ({ value, tag }))];
  const outcome = V.attempt(() => new BackgroundThread(options));
  if (codes !== null && codes.length === 0 && !outcome.ok) fail(`valid options rejected: ${V.describeError(outcome.error)}`);
  if (codes !== null && codes.length > 0 && outcome.ok) fail(`invalid options accepted (expected ${codes})`);
  V.expectAllowed(outcome, { codes: codes ?? CONSTRUCTOR_CODES, userTags: ['options', 'args', 'name'], inputs }, 'new BackgroundThread(options)');
  // A thread accepted from a form whose reads are transparent is then exercised in full.
  if (outcome.ok && isSafeForm(form)) {
    const read = V.readParams([options]).options;
    await exerciseThread(outcome.value, read, read.args === values.args ? argsExpected : undefined);
  } else if (outcome.ok) {
    startAccepted(outcome.value);
  }
}, 500);

const positionalArbitrary = fc.record({
  leaves: fc.tuple(leafFor.group, leafFor.target, leafFor.name, leafFor.args, leafFor.kwargs,
    leafFor.verbose, V.fuzzValue),
  length: fc.oneof({ arbitrary: fc.integer({ min: 0, max: 6 }), weight: 6 },
    { arbitrary: fc.constant(7), weight: 1 }),
}).map(({ leaves, length }) => {
  const specs = leaves.slice(0, length);
  const label = `new BackgroundThread(${specs.map((s) => s.label).join(', ')})`;
  return { specs, [fc.toStringMethod]: () => label };
});

fuzz('new BackgroundThread(group, target, name, args, kwargs, verbose): documented errors only', positionalArbitrary, async ({ specs }) => {
  const params = specs.map((s, i) => s.make(positionTags[i]));
  const plain = specs.every((s) => s.plain) && V.attempt(() => String(params[2])).ok;
  const { form, options: read } = plain
    ? V.readParams(params) : { form: undefined, options: undefined };
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
  stackSize: fc.oneof(fc.constantFrom(0, null, undefined, V.MIN_STACK, V.MAX_STACK),
    fc.integer({ min: V.MIN_STACK, max: 4 << 20 })),
  daemon: fc.constantFrom(true, false, null, undefined),
  args: fc.array(fc.anything({ maxDepth: 1 }), { maxLength: 5 }),
  kwargs: fc.oneof(fc.constant(null), fc.object({ maxDepth: 1 })),
}, { requiredKeys: [] });

fuzz('start() with any valid options: a real OS thread carrying the name, joined, target called right', validOptions, async (options) => {
  const target = V.fn('target', 'recorder');
  const t = new BackgroundThread({ ...options, target });
  await exerciseThread(t, { ...options, target }, options.args ?? []);
}, 300);

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
  checkTargetArgs(t0, argsExpected, arity >= 3 && !V.nullish(k0) ? [k0] : []);
}, 400);

test.run();
