// The process-wide settings with fuzzed arguments, property-based (fast-check; harness in
// helpers/fuzz.mjs): stackSize(x) returns the previous size and sets valid sizes only (0, or an
// integer from 32 KiB to 1 GiB; -0 reads back as 0), threads still starting with each;
// setMaxBackgroundThreads(x) applies a valid cap exactly (start() and startNewBackgroundThread
// refused with ERR_THREAD_LIMIT_REACHED at the cap, with no OS thread behind the refusal, the
// refused thread startable later). A bad value gets a documented error with its stable code,
// runs none of the caller's code, and changes nothing.
import { test } from 'uvu';
import fc from 'fast-check';
import {
  BackgroundThread, activeCount, setMaxBackgroundThreads, stackSize, startNewBackgroundThread,
} from 'background-thread';
import { deferred, fail, fuzzer, startAccepted, track } from './helpers/fuzz.mjs';
import * as V from './helpers/fuzz-values.mjs';
import { allTasks } from './helpers/os-threads.mjs';

const fuzz = fuzzer(test);

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
  startAccepted(new BackgroundThread({ target: () => {} }), `start() with stackSize() ${stackSize()}`);
}, 300);

fuzz('setMaxBackgroundThreads(x): valid caps apply exactly, bad ones change nothing', fc.record({
  x: V.mostly(fc.oneof(V.values(Infinity, 0, -0),
    fc.integer({ min: 0, max: 5 }).map((n) => V.spec(String(n), () => n, { plain: true }))), 2),
  alive: fc.integer({ min: 0, max: 3 }),
}), async ({ x: xSpec, alive }) => {
  const gate = deferred();
  const started = [];
  for (let i = 0; i < alive; i++) {
    const s = track(new BackgroundThread({ target: () => gate.promise, daemon: i % 2 === 1 }));
    s.start();
    started.push(s);
  }
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
    // startNewBackgroundThread over the cap: the same error, and no OS thread behind it. All OS
    // threads are compared, parked ones included: a parked one handed a thread of an earlier run
    // (start() need not wait for it) changes its name, not its tid.
    const tids = allTasks();
    const refused = V.attempt(() => startNewBackgroundThread(() => {}));
    if (refused.ok) fail(`startNewBackgroundThread with ${live} alive passed the cap ${cap}`);
    V.expectAllowed(refused, { codes: ['ERR_THREAD_LIMIT_REACHED'] }, 'startNewBackgroundThread over the cap');
    // Compared by id: threads of earlier runs may be ending (or parking) meanwhile.
    if (allTasks().some((id) => !tids.includes(id)) || activeCount() - 1 !== live) fail('a refused startNewBackgroundThread left a thread');
    setMaxBackgroundThreads(Infinity);
    t.start();   // left unstarted, so it can be started later
    track(t);
  }
  gate.resolve();
}, 300);

test.run();
