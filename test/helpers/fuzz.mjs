// The harness of the fuzz tests (test/fuzz-*.test.mjs). fuzzer(test) gives `fuzz(name,
// arbitrary, predicate, numRuns)`: fc.assert on an async property, with these checks for every run:
//  - no 'uncaughtException' / 'unhandledRejection' (recorded by listeners, checked after each run);
//  - every thread started (track()) is joined, true, by the end of the run, and no OS thread of
//    the process (/proc/self/task) is left over at the end of the property;
//  - the global settings are restored after each run (setMaxBackgroundThreads(Infinity),
//    stackSize(0), mainThread().name; the excepthook to recordingHook, and to the default with
//    setExcepthook(null) once the file is done).
// Errors are judged by helpers/fuzz-values.mjs judge(). Targets run in threads are only functions
// made by the tests (fuzz-values.mjs fn()), all of which settle.
// Replay: FUZZ_SEED=<seed> (default fixed, printed on failure with the counterexample's path);
// FUZZ_SCALE=<factor> multiplies the number of runs; FUZZ_DEBUG=1 names each property as it starts.
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { stat } from 'node:fs/promises';
import { mainThread, setExcepthook, setMaxBackgroundThreads, stackSize } from 'background-thread';
import * as V from './fuzz-values.mjs';
import { gone, linux, tasks } from './os-threads.mjs';
import { deferred as newDeferred, nextTurn } from './wait.mjs';

export const SEED = process.env.FUZZ_SEED === undefined
  ? 0x5eed2024 : Number(process.env.FUZZ_SEED);
export const runs = (n) => Math.max(1, Math.round(n * Number(process.env.FUZZ_SCALE ?? 1)));

const events = { uncaught: [], unhandled: [] };
const onUncaught = (error) => { events.uncaught.push(error); };
const onUnhandled = (reason) => { events.unhandled.push(reason); };
let calls = [];
/** The excepthook during fuzz runs: records what it receives (see hookCalls()). */
export const recordingHook = (args) => { calls.push(args); };
/** What recordingHook received in the current run. */
export const hookCalls = () => calls;

/** Gates of the current run: opened when it is over, even when it failed half-way. */
const gates = new Set();
export const deferred = () => { const gate = newDeferred(); gates.add(gate); return gate; };

/** Threads started in the current run: joined (and required to end) when it is over. */
const startedThreads = new Set();
export const track = (thread) => { startedThreads.add(thread); return thread; };

function restoreGlobals() {
  setMaxBackgroundThreads(Infinity);
  stackSize(0);
  setExcepthook(recordingHook);
  mainThread().name = 'MainThread';
}

export const fail = (message) => { throw new Error(message); };
/** A short printable form of any value (never throws). */
export const show = (value) => {
  try { return typeof value === 'string' ? JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value) : fc.stringify(value); } catch { return '<unprintable>'; }
};

async function joinTracked() {
  for (const gate of gates) gate.resolve();
  gates.clear();
  const threads = [...startedThreads];
  startedThreads.clear();
  const ended = await Promise.all(threads.map((t) => t.join(10).catch((error) => error)));
  return threads.map((t, i) => (ended[i] === true ? null : `${t} (join: ${show(ended[i])})`)).filter(Boolean);
}

/** Registers the harness's hooks on `test` (a uvu suite); returns fuzz(). */
export function fuzzer(test) {
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
  return function fuzz(name, arbitrary, predicate, numRuns) {
    test(name, async () => {
      if (process.env.FUZZ_DEBUG) console.error(`[fuzz] ${name}`);
      const before = tasks();
      const counts = { uncaught: events.uncaught.length, unhandled: events.unhandled.length };
      restoreGlobals();
      try {
        await fc.assert(fc.asyncProperty(arbitrary, async (input) => {
          const mark = { uncaught: events.uncaught.length, unhandled: events.unhandled.length };
          calls = [];
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
        await gone(tasks().filter((id) => !before.includes(id)));
        assert.equal(tasks().filter((id) => !before.includes(id)), [], 'OS threads left over after the property');
      }
    });
  };
}

/** Starts a thread accepted from hostile input: it starts (or the OS refuses a huge stack). */
export function startAccepted(t, what = 'start() of an accepted thread') {
  const start = V.attempt(() => t.start());
  if (start.ok) track(t);
  else V.expectAllowed(start, { codes: ['ERR_THREAD_RESOURCES_EXHAUSTED'] }, what);
  return start.ok;
}

/**
 * What a call that must return a Promise (join, joinAll) gave: {ok, value} or {ok: false, error}.
 */
export async function promiseOutcome(call, what) {
  const returned = V.attempt(call);
  if (!returned.ok) fail(`${what} threw synchronously: ${V.describeError(returned.error)}`);
  if (!(returned.value instanceof Promise)) fail(`${what} returned ${show(returned.value)}, not a Promise`);
  return returned.value.then((value) => ({ ok: true, value }), (error) => ({ ok: false, error }));
}

/**
 * What join(x) (sync false) or joinSync(x) (sync true) of a thread in `state` must give:
 * { codes } (an error with one of them) or { value } (true, false, or 'boolean': either).
 * States: 'initial' (not started), 'started' (its target awaits a gate that opens right after
 * the calls: it needs this loop), 'settling' (its target has settled, the OS thread is ending),
 * 'stopped' (joined), 'current' (the calling thread itself, the main thread here).
 */
export function expectedJoin(state, x, sync) {
  const valid = V.isValidTimeout(x);
  const bad = valid ? [] : [V.timeoutCode(x)];
  if (state === 'initial') return { codes: ['ERR_THREAD_NOT_STARTED', ...bad] };
  if (state === 'current') return { codes: ['ERR_JOIN_CURRENT_THREAD', ...bad] };
  if (!valid) return { codes: bad };
  const seconds = V.timeoutSeconds(x);   // -1: forever
  const long = seconds < 0 || seconds >= 5;   // plenty for a thread about to end
  if (state === 'stopped') return { value: true };
  if (state === 'settling') return { value: (sync ? seconds < 0 || seconds >= 1 : long) || 'boolean' };
  if (seconds === 0) return { value: false };   // a poll of a live thread
  if (sync) return { codes: ['ERR_JOIN_WOULD_DEADLOCK'] };   // the target needs this loop
  return { value: long || 'boolean' };
}

/** Fails unless `outcome` of a join with timeout `x` is what `expected` (expectedJoin) says. */
export function checkJoin(outcome, expected, x, what) {
  if (expected.codes) {
    if (outcome.ok) fail(`${what} gave ${show(outcome.value)}, expected one of ${expected.codes}`);
    V.expectAllowed(outcome, { codes: expected.codes, inputs: [{ value: x, tag: 'timeout' }] }, what);
  } else if (!outcome.ok) {
    fail(`${what}: ${V.describeError(outcome.error)}`);
  } else if (expected.value === 'boolean' ? typeof outcome.value !== 'boolean' : outcome.value !== expected.value) {
    fail(`${what} gave ${show(outcome.value)}, expected ${expected.value}`);
  }
}
