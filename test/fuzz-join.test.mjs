// join(x), joinSync(x) and joinAll(x) with fuzzed timeouts, property-based (fast-check; harness in
// helpers/fuzz.mjs): any value, in every state of the thread (not started, running on this
// loop, ending, ended). join and joinAll always return a Promise; a bad timeout gets a documented
// error with its stable code (TypeError or RangeError), never a silent default; a valid one is
// seconds (negative polls, null and Infinity wait forever), and the result is the one the state
// dictates (true once ended, false for a poll of a live thread, ERR_JOIN_WOULD_DEADLOCK for a
// joinSync that would wait on a target needing this loop). The thread stays joinable.
import { test } from 'uvu';
import fc from 'fast-check';
import { BackgroundThread, joinAll } from 'background-thread';
import {
  checkJoin, deferred, expectedJoin, fail, fuzzer, promiseOutcome, track,
} from './helpers/fuzz.mjs';
import * as V from './helpers/fuzz-values.mjs';
import { nextTurn } from './helpers/wait.mjs';

const fuzz = fuzzer(test);

const joinArbitrary = fc.record({
  state: fc.constantFrom('initial', 'started', 'settling', 'stopped'),
  calls: fc.array(fc.record({ sync: fc.boolean(), timeout: V.timeoutValue }),
    { minLength: 1, maxLength: 6 }),
});

fuzz('join(x) always returns a Promise, joinSync(x) throws only documented errors, in every state', joinArbitrary, async ({ state, calls }) => {
  const gate = deferred();
  let ran = false;
  const t = new BackgroundThread({ target: () => { ran = true; return gate.promise; } });
  if (state !== 'initial') track(t).start();
  if (state === 'stopped') {
    gate.resolve();
    if (await t.join() !== true) fail('join() of a finished target is not true');
  }
  if (state === 'settling') {
    gate.resolve();
    while (!ran) await nextTurn();
    // The target's Promise has settled in the turn it ran: the OS thread is ending.
    await nextTurn();
  }
  const pending = [];
  for (const { sync, timeout } of calls) {
    const x = timeout.make('timeout');
    const what = `${sync ? 'joinSync' : 'join'}(${timeout.label}) when ${state}`;
    const expected = expectedJoin(state, x, sync);
    if (sync) {
      checkJoin(V.attempt(() => t.joinSync(x)), expected, x, what);
    } else {
      const checked = promiseOutcome(() => t.join(x), what)
        .then((outcome) => checkJoin(outcome, expected, x, what));
      checked.catch(() => {});   // awaited below; not an unhandled rejection if the run fails first
      pending.push(checked);
    }
  }
  gate.resolve();
  await Promise.all(pending);
  if (state === 'initial') track(t).start();   // still usable
  if (await t.join() !== true || t.isAlive()) fail('the thread did not end after the bad joins');
}, 400);

fuzz('joinAll(x) always returns a Promise; it resolves a boolean or rejects as documented', fc.record({ withThread: fc.boolean(), timeout: V.timeoutValue }), async ({ withThread, timeout }) => {
  const gate = deferred();
  if (withThread) track(new BackgroundThread({ target: () => gate.promise })).start();
  const x = timeout.make('timeout');
  const what = `joinAll(${timeout.label})${withThread ? ' with a live thread' : ''}`;
  const settled = promiseOutcome(() => joinAll(x), what);
  setImmediate(() => gate.resolve());
  const outcome = await settled;
  gate.resolve();
  // As a join of the one live thread, whose gate opens right after the call; or of none at all.
  checkJoin(outcome, expectedJoin(withThread ? 'started' : 'stopped', x, false), x, what);
}, 300);

test.run();
