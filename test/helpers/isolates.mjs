// Module threads on this loop's isolate pool, for test/isolate-pool.test.mjs and
// test/thread-results.test.mjs: targets in test/fixtures/module-targets/, gates that hold a run
// inside its module (see pool.mjs), and the pool's counts, emptied and reset between tests.
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import { BackgroundThread, isolatePool, setIsolatePool } from 'background-thread';
import { sleep, until } from './wait.mjs';

export const fixture = (file) => fileURLToPath(new URL(`../fixtures/module-targets/${file}`, import.meta.url));
/** A module target of pool.mjs (or of another fixture). */
export const poolTarget = (exportName, file = 'pool.mjs') => ({ module: fixture(file), export: exportName });

/** The settings this file started with, to come back to after each test. */
export const SETTINGS = (({ maxIdle, idleTimeout, maxIsolates }) =>
  ({ maxIdle, idleTimeout, maxIsolates }))(isolatePool());

/** The pool's counts alone. */
export const counts = () => {
  const { idle, busy, waiting } = isolatePool();
  return { idle, busy, waiting };
};

/**
 * Ends every idle isolate (other test files leave some) and restores SETTINGS; waits for
 * isolates that died (their 'exit' removes them) and checks nothing else runs.
 */
export async function emptyPool() {
  setIsolatePool({ maxIdle: 0, idleTimeout: 0, maxIsolates: Infinity });
  setIsolatePool(SETTINGS);
  await until(() => isolatePool().busy === 0, 30, 'dead isolates to leave the pool');
  assert.equal(counts(), { idle: 0, busy: 0, waiting: 0 }, 'an empty pool to start from');
}

/**
 * A gate for pool.mjs's `hold`: `buffer` to pass, `started()` resolves once the run is held at
 * it (a hang guard, generous: the machine may be loaded), `release()` lets it go on (see
 * releaseAll).
 */
export function gate() {
  const cells = new Int32Array(new SharedArrayBuffer(16));
  const g = {
    cells,
    buffer: cells.buffer,
    started: () => until(() => Atomics.load(cells, 0) === 1, 30, 'the module to reach its gate'),
    release() { Atomics.store(cells, 1, 1); Atomics.notify(cells, 1); },
  };
  gates.add(g);
  return g;
}

const gates = new Set();

/**
 * Releases every gate made so far, and restores SETTINGS (which starts threads waiting under a
 * lowered maxIsolates): after each test, so that a failed one leaves no module thread held
 * forever (a non-daemon one would keep the test process from exiting).
 */
export function releaseAll() {
  for (const g of gates) g.release();
  gates.clear();
  setIsolatePool(SETTINGS);
}

/** Starts a module thread and waits for its end; returns the thread. */
export async function ended(options) {
  const t = new BackgroundThread(options);
  t.start();
  assert.is(await t.join(), true);
  return t;
}

/**
 * n module threads at once (pool.mjs `count`, each held at a gate until all have started), then
 * ended one after the other: the pool is left with their isolates idle, the last one's most
 * recently used. Returns the threads.
 */
export async function burst(n) {
  const gates = Array.from({ length: n }, gate);
  const threads = gates.map((g) => new BackgroundThread({ target: poolTarget('count'), args: [g.buffer] }));
  for (const t of threads) t.start();
  for (const g of gates) await g.started();
  assert.is(new Set(threads.map((t) => t.nativeId)).size, n, 'each on an isolate of its own');
  for (const [i, t] of threads.entries()) {
    gates[i].release();
    assert.is(await t.join(), true);
  }
  return threads;
}

export { sleep, until };
