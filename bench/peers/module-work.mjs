// The module that the module-target rows run, both as a BackgroundThread module target
// ({ module: this file, export }) and in a plain Worker (plain-worker.mjs imports it the same way).
// Times go back through a SharedArrayBuffer (structured cloning shares it): slot i of a
// BigInt64Array gets process.hrtime.bigint(), the monotonic clock every thread of the process
// shares, so the creator reads them after join() / 'exit' without a message.

/** The export's first line: stamps the clock into `stamps[slot]`. */
export function firstLine(shared, slot = 0) {
  Atomics.store(new BigInt64Array(shared), slot, process.hrtime.bigint());
}

/**
 * CPU-bound work: `iterations` rounds of xorshift32 (integer ops only: no allocation, no GC, no
 * I/O; the result is returned so that the loop cannot be dropped).
 */
export function spin(iterations) {
  let x = 2463534242 | 0;
  for (let i = 0; i < iterations; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
  }
  return x;
}

/** spin(iterations), stamping when it began and ended into stamps[2 * slot] and [2 * slot + 1]. */
export function cpuWork(iterations, shared, slot = 0) {
  const stamps = new BigInt64Array(shared);
  Atomics.store(stamps, 2 * slot, process.hrtime.bigint());
  const x = spin(iterations);
  Atomics.store(stamps, 2 * slot + 1, process.hrtime.bigint());
  return x;
}

/**
 * The remote job's first line (peers/remote.mjs): returns the clock, for a creator in another
 * process: process.hrtime.bigint() is CLOCK_MONOTONIC, the same in every process of the machine.
 */
export function now() {
  return process.hrtime.bigint();
}

/** Nothing: the empty export of the start+join throughput rows. */
export function empty() {}

/**
 * Waits (10 s at most) until `n` threads have reached it, counting arrivals in
 * Int32Array(shared)[0]: the idle-pool RSS rows run `n` of these at once, so that they take `n`
 * distinct isolates.
 */
export function gather(shared, n) {
  const count = new Int32Array(shared);
  Atomics.add(count, 0, 1);
  Atomics.notify(count, 0);
  const deadline = Date.now() + 10_000;
  let seen;
  while ((seen = Atomics.load(count, 0)) < n && Date.now() < deadline) {
    Atomics.wait(count, 0, seen, 50);
  }
  return seen >= n;
}
