// Waiting in tests: gates that a test opens, a loop turn, a sleep, and polling until a condition
// holds (with a hang guard, never a speed check).

/** A Promise with its resolve exposed: targets wait on it so that tests decide when they end. */
export function deferred() {
  let resolve, reject;
  const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

/** One turn of the event loop (a macrotask), after which a started target has had its turn. */
export const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/** Resolves after `ms` milliseconds. */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until `predicate()` (sync or async) holds, checking every `interval` ms; fails after
 * `seconds`: a hang guard, so generous (the machine may be loaded), never a speed check.
 */
export async function until(predicate, seconds = 10, what = 'condition', interval = 1) {
  const end = performance.now() + seconds * 1000;
  while (!await predicate()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(interval);
  }
}

/** `promise`, or a rejection naming `what` once `seconds` have passed (a hang guard). */
export function withTimeout(promise, seconds, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${seconds} s`)), seconds * 1000);
    }),
  ]).finally(() => clearTimeout(timer));
}
