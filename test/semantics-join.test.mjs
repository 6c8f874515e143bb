// join(), joinSync() and joinAll() in this process, as in Python: timeouts are seconds counted
// from the call (negative polls, null and Infinity wait forever), every joiner sees the end,
// joinSync waits natively for a settled target, the thread has ended by the time code awaiting
// its target's Promise resumes, and joinAll waits for the non-daemon threads only.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BackgroundThread, joinAll } from 'background-thread';
import { deferred, nextTurn } from './helpers/wait.mjs';

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
    const t = new BackgroundThread({
      target: () => { const p = make(gate); ran.resolve([p]); return p; },
    });
    t.start();
    const [returned] = await ran.promise;
    setTimeout(gate.resolve, 5);
    await returned;
    assert.is(t.joinSync(10), true, 'joinSync right after the await: no ERR_JOIN_WOULD_DEADLOCK');
  }
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

test.run();
