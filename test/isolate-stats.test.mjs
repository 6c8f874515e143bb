// isolatePool()'s runTime and waitTime: summaries ({ count, mean, p50, p99 }, milliseconds) of
// this loop's last 1,000 module threads that ended. Each test runs test/fixtures/pool-stats.mjs
// in a process of its own, whose loop has run no module thread before. Times are compared with
// what the test side measured around them (a held run lasted at least as long as it was held, a
// queued thread waited at least as long as it was queued): orderings, never speed limits.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assertExit, describe, runNode } from './helpers/child.mjs';

const FIXTURE = new URL('./fixtures/pool-stats.mjs', import.meta.url).pathname;

async function scenario(name) {
  const result = await runNode([FIXTURE, name], { timeout: 180000 });
  assertExit(result, 0);
  try {
    return JSON.parse(result.stdout.trim().split('\n').at(-1),
      (_, value) => (value === 'NaN' ? NaN : value));
  } catch {
    throw new Error(`no JSON from the child\n${describe(result)}`);
  }
}

/** count; p50 <= p99; every figure >= 0; with under 100 times, p99 is the largest. */
function wellFormed(summary, count, what) {
  assert.is(summary.count, count, `${what}: count`);
  for (const key of ['mean', 'p50', 'p99']) {
    assert.ok(summary[key] >= 0, `${what}: ${key} ${summary[key]} >= 0`);
  }
  assert.ok(summary.p50 <= summary.p99, `${what}: p50 ${summary.p50} <= p99 ${summary.p99}`);
  assert.ok(summary.mean <= summary.p99, `${what}: mean ${summary.mean} <= the largest, p99 ${summary.p99}`);
}

test('runTime and waitTime move as module threads end: held runs, throwing and fresh ones, a queued wait', async () => {
  const seen = await scenario('moves');
  const nothing = { count: 0, mean: NaN, p50: NaN, p99: NaN };
  assert.equal(seen.empty, { runTime: nothing, waitTime: nothing }, 'no module thread yet');

  wellFormed(seen.quick.runTime, 3, 'three quick threads: runTime');
  wellFormed(seen.quick.waitTime, 3, 'three quick threads: waitTime');

  wellFormed(seen.held.runTime, 4, 'after a held thread: runTime');
  assert.ok(seen.held.runTime.p99 >= seen.heldMs,
    `the held run (p99, the largest: ${seen.held.runTime.p99} ms) lasted at least as long as it was held (${seen.heldMs} ms)`);

  assert.is(seen.threw, 'E_NO', 'the throwing thread threw');
  wellFormed(seen.throwAndFresh.runTime, 6, 'a thread that threw and a fresh one count: runTime');
  wellFormed(seen.throwAndFresh.waitTime, 6, 'waitTime');

  const { busy, waiting, runTime, waitTime } = seen.whileQueued;
  assert.equal({ busy, waiting }, { busy: 1, waiting: 1 }, 'one running, one queued (maxIsolates 1)');
  assert.equal({ runTime, waitTime }, seen.throwAndFresh, 'threads count once they have ended, not before');

  wellFormed(seen.queued.runTime, 8, 'after the queue: runTime');
  wellFormed(seen.queued.waitTime, 8, 'after the queue: waitTime');
  assert.ok(seen.queuedMs > 0);
  assert.ok(seen.queued.waitTime.p99 >= seen.queuedMs,
    `the queued thread (p99, the largest wait: ${seen.queued.waitTime.p99} ms) waited at least as long as it was queued (${seen.queuedMs} ms)`);
});

test('the summaries cover the last 1,000 module threads: the count stops there, older times drop out', async () => {
  const seen = await scenario('window');
  assert.is(seen.WINDOW, 1000);
  wellFormed(seen.real.runTime, 1000, '1,001 threads: runTime');
  wellFormed(seen.real.waitTime, 1000, '1,001 threads: waitTime');
  // Waits of 1..1500 ms and runs twice as long, recorded after them: 501..1500 remain.
  // Nearest rank: p50 is the 500th of the 1,000, p99 the 990th.
  assert.equal(seen.known, {
    waitTime: { count: 1000, mean: 1000.5, p50: 1000, p99: 1490 },
    runTime: { count: 1000, mean: 2001, p50: 2000, p99: 2980 },
  });
});

test.run();
