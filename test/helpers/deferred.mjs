// A Promise with its resolve exposed: targets wait on it so that tests decide when they end.
export function deferred() {
  let resolve, reject;
  const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

/** One turn of the event loop (a macrotask), after which a started target has had its turn. */
export const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/** Waits until `predicate()` holds, checking each loop turn; fails after `seconds`. */
export async function until(predicate, seconds = 10, what = 'condition') {
  const end = performance.now() + seconds * 1000;
  while (!predicate()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
