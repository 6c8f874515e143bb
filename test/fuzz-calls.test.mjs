// Any sequence of calls with fuzzed arguments on a thread object, property-based (fast-check;
// harness in helpers/fuzz.mjs), checked against a model of the thread: name and setName (any
// value, converted with String()), daemon and setDaemon, join, joinSync, start, run, and the
// queries (isAlive, isDaemon, toString, and currentThread, enumerate, activeCount and
// getExcepthook, which ignore their arguments). A bad call gets a documented error with its
// stable code and leaves the object as it was; a new thread then still starts, calls its target
// and joins; the main thread stays the alive, non-daemon main thread under any call.
import { test } from 'uvu';
import fc from 'fast-check';
import { inspect } from 'node:util';
import {
  BackgroundThread, activeCount, currentThread, enumerate, getExcepthook, mainThread,
} from 'background-thread';
import {
  checkJoin, deferred, expectedJoin, fail, fuzzer, promiseOutcome, recordingHook, show, track,
} from './helpers/fuzz.mjs';
import * as V from './helpers/fuzz-values.mjs';

const fuzz = fuzzer(test);

const THREAD_OPS = ['name=', 'setName', 'daemon=', 'setDaemon', 'join', 'joinSync', 'start', 'queries'];
// run() of a new thread would call its target here, once; the main thread's does nothing.
const MAIN_OPS = [...THREAD_OPS, 'run'];
const opArbitrary = (ops) => fc.record({
  op: fc.constantFrom(...ops),
  value: fc.oneof({ arbitrary: V.values(true, false, 'n', 0, 1, null, undefined, 0.01), weight: 1 }, { arbitrary: V.fuzzValue, weight: 2 }),
});

/** The thread `t` is as `model` ({ name, daemon, state, ident }) says. */
function check(t, model, where) {
  const alive = model.state === 'started' || model.state === 'current';
  if (t.name !== model.name || t.getName() !== model.name) fail(`${where}: name ${show(t.name)}, model ${show(model.name)}`);
  if (t.daemon !== model.daemon || t.isDaemon() !== model.daemon) fail(`${where}: daemon ${t.daemon}, model ${model.daemon}`);
  if (t.isAlive() !== alive) fail(`${where}: isAlive ${t.isAlive()} in state ${model.state}`);
  if (t.ident !== model.ident) fail(`${where}: ident ${t.ident}, model ${model.ident}`);
  if (mainThread() !== (model.state === 'current' ? t : mainThread()) || currentThread() !== mainThread()) {
    fail(`${where}: mainThread()/currentThread() changed`);
  }
}

/**
 * Calls `op` with the fuzzed value on `t`, checks the outcome against `model` and updates it;
 * a join's Promise is checked once it settles (pushed on `pending`).
 */
function apply(t, model, { op, value: valueSpec }, pending) {
  const tag = op === 'name=' || op === 'setName' ? 'name' : op === 'join' || op === 'joinSync' ? 'timeout' : op;
  const value = valueSpec.make(tag);
  const inputs = [{ value, tag }];
  const what = `${op}(${valueSpec.label}) when ${model.state}`;
  switch (op) {
    case 'name=': case 'setName': {
      // Any name is String(name): accepted exactly when String() works, else String()'s own error.
      const expected = V.attempt(() => String(value));
      const outcome = V.attempt(() => (op === 'name=' ? (t.name = value) : t.setName(value)));
      if (outcome.ok !== expected.ok) fail(`${what}: ${outcome.ok ? 'accepted' : 'rejected'} but String() ${expected.ok ? 'works' : 'throws'}`);
      if (outcome.ok) model.name = expected.value;
      else V.expectAllowed(outcome, { codes: [], userTags: ['name'], inputs }, what);
      break;
    }
    case 'daemon=': case 'setDaemon': {
      const outcome = V.attempt(() => (op === 'daemon=' ? (t.daemon = value) : t.setDaemon(value)));
      const boolean = typeof value === 'boolean';
      if (model.state === 'initial' && boolean) {
        if (!outcome.ok) fail(`${what}: ${V.describeError(outcome.error)}`);
        model.daemon = value;
      } else {
        if (outcome.ok) fail(`${what} succeeded`);
        const codes = model.state === 'initial' ? ['ERR_INVALID_ARG_TYPE']
          : ['ERR_THREAD_ACTIVE', ...(boolean ? [] : ['ERR_INVALID_ARG_TYPE'])];
        V.expectAllowed(outcome, { codes, inputs }, what);
      }
      break;
    }
    case 'join': {
      const expected = expectedJoin(model.state, value, false);
      const checked = promiseOutcome(() => t.join(value), what)
        .then((outcome) => checkJoin(outcome, expected, value, what));
      // Awaited at the end; not an unhandled rejection if the run fails first.
      checked.catch(() => {});
      pending.push(checked);
      break;
    }
    case 'joinSync':
      checkJoin(V.attempt(() => t.joinSync(value)), expectedJoin(model.state, value, true), value,
        what);
      break;
    case 'start': {
      const outcome = V.attempt(() => t.start(value));
      if (model.state === 'initial') {
        if (!outcome.ok) fail(`${what} (start ignores its arguments): ${V.describeError(outcome.error)}`);
        model.state = 'started';
        model.ident = t.ident;
        track(t);
      } else {
        if (outcome.ok) fail(`${what} succeeded on a started thread`);
        V.expectAllowed(outcome, { codes: ['ERR_THREAD_ALREADY_STARTED'] }, what);
      }
      break;
    }
    case 'run': {
      const outcome = V.attempt(() => t.run(value));
      if (!outcome.ok) fail(`${what} threw ${V.describeError(outcome.error)}`);
      break;
    }
    case 'queries': {
      const alive = model.state === 'started' || model.state === 'current';
      if (t.isAlive(value) !== alive || t.is_alive(value) !== alive) fail(`${what}: isAlive() is not ${alive}`);
      if (t.isDaemon(value) !== model.daemon || t.is_daemon(value) !== model.daemon) fail(`${what}: isDaemon() is not ${model.daemon}`);
      String(t); inspect(t); t.toString(value);
      const list = enumerate(value);
      if (list[0] !== mainThread() || list.includes(t) !== alive) fail(`${what}: enumerate() lost a thread or kept one`);
      if (activeCount(value) !== list.length) fail(`${what}: activeCount() disagrees with enumerate()`);
      if (currentThread(value) !== mainThread()) fail(`${what}: currentThread() is not the main thread`);
      if (getExcepthook(value) !== recordingHook) fail(`${what}: getExcepthook() changed`);
      break;
    }
    default: throw new Error(op);
  }
  check(t, model, what);
}

const START = { op: 'start', value: V.spec('undefined', () => undefined, { plain: true }) };

fuzz('after any bad call the thread is as it was, and still starts and joins', fc.record({
  before: fc.array(opArbitrary(THREAD_OPS), { maxLength: 6 }),
  during: fc.array(opArbitrary(THREAD_OPS), { maxLength: 6 }),
  after: fc.array(opArbitrary(THREAD_OPS), { maxLength: 4 }),
}), async ({ before, during, after }) => {
  const gate = deferred();
  const target = V.fn('target', 'recorder');
  const t = new BackgroundThread({
    target: (...args) => { target(...args); return gate.promise; }, args: [1, 2],
  });
  const model = { name: t.name, daemon: false, state: 'initial', ident: null };
  const pending = [];
  for (const op of before) apply(t, model, op, pending);
  if (model.state === 'initial') apply(t, model, START, pending);
  for (const op of during) apply(t, model, op, pending);
  gate.resolve();
  if (await t.join() !== true) fail('join() after the bad calls did not resolve true');
  model.state = 'stopped';
  check(t, model, 'after join');
  for (const op of after) apply(t, model, op, pending);
  await Promise.all(pending);
  const got = V.recorded.get(target);
  if (got?.length !== 2 || got[0] !== 1 || got[1] !== 2) fail(`the target got ${show(got)}`);
}, 400);

fuzz('mainThread() with any calls and arguments: documented errors only, still the main thread', fc.array(opArbitrary(MAIN_OPS), { minLength: 1, maxLength: 6 }), async (ops) => {
  const main = mainThread();
  const model = { name: main.name, daemon: false, state: 'current', ident: main.ident };
  const pending = [];
  for (const op of ops) apply(main, model, op, pending);
  await Promise.all(pending);
}, 300);

test.run();
