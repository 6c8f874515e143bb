// Shared by the Node.js peers (background-thread, worker_threads, setImmediate, piscina). Each
// peer script is run by bench/run.mjs in a fresh process as
//   node --expose-gc bench/peers/<peer>.mjs '<json params>'
// does ONE measurement and prints ONE line of JSON on stdout: the result, or { na: reason } when
// the peer cannot take this measurement (a baseline build without warm isolates). Params:
//   { metric: 'latency',    n, warmup }             -> { samples: [µs, ...], startCall: [µs, ...] }
//     samples: just before start() -> the target's first line; startCall: how long start()
//     itself took
//   { metric: 'throughput', n, inFlight, warmup }   -> { n, inFlight, seconds, perSecond }
//   { metric: 'rss',        alive, stack, warmup }  -> { alive, stack, before, after,
//                                                        perThreadKiB, tasks }
//   { metric: 'lag',        idle, seconds }         -> { idle, samples: [ms, ...], p50, p99 }
// Module targets (background-thread: { module, export } targets; worker_threads: a plain Worker
// running plain-worker.mjs, which imports the same module and calls the same export; piscina: a
// pool's task, piscina-task.mjs calling the same export):
//   { metric: 'module-latency', n, warmup, isolate? } -> { samples: [µs, ...],
//                     startCall: [µs, ...], joined: [µs, ...], seconds, perSecond }
//     samples: just before start() / pool.run() -> the export's first line (module-work.mjs
//     firstLine); joined: -> join() resolved / 'exit' / run() settled; perSecond: n / the loop's
//     elapsed time (sequential start+join). isolate (background-thread): 'warm' or 'fresh'.
//   { metric: 'module-throughput', n, inFlight, warmup, cap? }
//     -> { n, inFlight, seconds, perSecond }
//     start+join of the empty export, inFlight lanes; cap (background-thread): maxIsolates = cores
//   { metric: 'idle-rss', n } -> { n, idle, before, after, perIdleKiB }
//     n module threads / tasks at once (module-work.mjs gather: n distinct isolates), ended; then
//     (VmRSS - VmRSS before the first) / the idle isolates / threads the pool kept
//   { metric: 'cpu', ms, tasks } -> { ms, tasks, iterations, serialMs, parallelMs, speedup,
//                                     serial: [...], parallel: [...] }
//     `tasks` (default 2) runs of spin(iterations) (module-work.mjs; iterations calibrated here to
//     ~ms on the main thread): one after the other on one thread (serialMs), then in `tasks`
//     threads at once (parallelMs); speedup = serialMs / parallelMs. serial/parallel: per run,
//     when its work began (ms after the first start) and how long it took (ms), from the stamps
//     the work writes (cpuResult below).
//   { metric: 'app-cost', nodes, awaits, runs, requests, concurrency } (background-thread only)
//     -> { [major]: { await: { none, imported, thread, daemon }, http: {...} } }: see app-cost.mjs
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { percentile } from '../stats.mjs';
import { cpuWork, spin } from './module-work.mjs';

export const params = JSON.parse(process.argv[2] ?? '{}');

/**
 * The package measured: BENCH_PACKAGE=DIR (run.mjs --baseline DIR) the one built in DIR, another
 * checkout; otherwise this checkout's, through the package's self-reference.
 */
export const importPackage = () => (process.env.BENCH_PACKAGE
  ? import(pathToFileURL(join(process.env.BENCH_PACKAGE, 'dist/index.mjs')).href)
  : import('background-thread'));

/**
 * Monotonic clock (CLOCK_MONOTONIC through uv_hrtime), the same in every thread of the process, in
 * µs.
 */
export const nowUs = () => Number(process.hrtime.bigint()) / 1000;

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const names = () => readdirSync('/proc/self/task').map((id) => {
  try { return readFileSync(`/proc/self/task/${id}/comm`, 'utf8').trimEnd(); } catch { return null; }
}).filter((name) => name !== null);

/** The number of OS threads of this process at work (background-thread's parked ones left out). */
export const tasks = () => names().filter((name) => name !== 'bgthread:parked').length;

/** The number of background-thread's parked OS threads. */
export const parkedTasks = () => names().filter((name) => name === 'bgthread:parked').length;

/** VmRSS from /proc/self/status, in bytes (what the Python and C peers read too). */
export function vmRss() {
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(line.split(/\s+/)[1]) * 1024;
}

/** RSS after a full GC (the children run with --expose-gc) and a moment for the allocator. */
export async function settledRss() {
  globalThis.gc?.();
  await sleep(20);
  globalThis.gc?.();
  return vmRss();
}

/**
 * Event-loop lag sampler: a chain of 1 ms timers; each sample is how late the timer fired
 * (elapsed - 1 ms, measured with the monotonic clock), in ms. libuv timers have 1 ms granularity,
 * so single samples carry up to ~1 ms of quantization (clamped at 0); the percentiles over
 * thousands of samples are what is compared.
 */
export function sampleLag(seconds) {
  return new Promise((resolve) => {
    const samples = [];
    const end = nowUs() + seconds * 1e6;
    const tick = () => {
      const t0 = nowUs();
      setTimeout(() => {
        const t1 = nowUs();
        samples.push(Math.max(0, (t1 - t0) / 1000 - 1));
        if (t1 < end) tick();
        else resolve(samples);
      }, 1);
    };
    tick();
  });
}

export async function lagResult(idle, seconds) {
  await sleep(100);  // let whatever starting the idle threads left behind settle
  const samples = await sampleLag(seconds);
  return { idle, samples: samples.map(round3), p50: percentile(samples, 50),
    p99: percentile(samples, 99) };
}

export const round1 = (x) => Math.round(x * 10) / 10;
export const round3 = (x) => Math.round(x * 1000) / 1000;

/**
 * Print the result and exit (process.exit: live threads/Workers are dropped at once, on purpose).
 */
export function done(result) {
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
}

/** Same lane scheme for every peer: `inFlight` lanes, each starting and joining one at a time. */
/**
 * One measurement: `measure(count)` once at the warm-up size (JIT, caches, glibc's stack cache),
 * then at the real size, reported with its sample arrays (µs) rounded to 0.1.
 */
export async function warmedUp(measure) {
  await measure(params.warmup);
  const result = await measure(params.n);
  done(Object.fromEntries(Object.entries(result)
    .map(([k, v]) => [k, Array.isArray(v) ? v.map(round1) : v])));
}

export async function lanes(n, inFlight, one) {
  let next = 0;
  async function lane() {
    while (next < n) {
      next++;
      await one();
    }
  }
  const t0 = nowUs();
  await Promise.all(Array.from({ length: Math.min(inFlight, n) }, lane));
  const seconds = (nowUs() - t0) / 1e6;
  return { n, inFlight, seconds, perSecond: n / seconds };
}

/**
 * A SharedArrayBuffer of `n` int64 slots (process.hrtime.bigint() stamps, ns) and a reader in µs.
 */
/**
 * Module-target latency, one at a time: `start(shared)` starts one run of module-work.mjs's
 * firstLine (it stamps shared slot 0) and returns what settles when it has ended; the clock runs
 * from just before start(). Returns the samples to the first line, the time inside start(), to
 * the end, and the rate.
 */
export async function oneAtATime(n, start) {
  const samples = [];
  const startCall = [];
  const joined = [];
  const began = nowUs();
  for (let i = 0; i < n; i++) {
    const s = stamps(1);
    const prepared = start.prepare?.(s.shared);
    const t0 = nowUs();
    const ended = start(s.shared, prepared);
    startCall.push(nowUs() - t0);
    await ended;
    joined.push(nowUs() - t0);
    if (s.us(0) === 0) fail('the export did not run');
    samples.push(s.us(0) - t0);
  }
  const seconds = (nowUs() - began) / 1e6;
  return { samples, startCall, joined, seconds, perSecond: n / seconds };
}

export function stamps(n) {
  const shared = new SharedArrayBuffer(8 * n);
  const view = new BigInt64Array(shared);
  return { shared, us: (i) => Number(view[i]) / 1000 };
}

/**
 * Iterations of spin (module-work.mjs) worth `ms` on this thread: doubles a trial until it takes
 * 30 ms or more, then scales the best (least disturbed) of three runs of it.
 */
export function calibrate(spin, ms) {
  const time = (n) => { const t0 = nowUs(); spin(n); return (nowUs() - t0) / 1000; };
  time(1e5);  // optimized before it is timed
  let n = 1 << 20;
  while (time(n) < 30 && n < 2 ** 30) n *= 2;
  const best = Math.min(time(n), time(n), time(n));
  return Math.min(2 ** 31 - 1, Math.round((n * ms) / best));
}

/**
 * The cpu measurement: `tasks` runs of spin (module-work.mjs), calibrated here to ~`ms` each,
 * first one after the other (`serial`), then at once (`parallel`), both once before with 1% of the
 * work (warm-up: for the pools, it also leaves their threads warm). serial and parallel are
 * async (iterations, shared, slots) => void, run slot i as cpuWork(iterations, shared, i) and
 * return once every slot's run has ended.
 */
export async function cpuResult({ ms, tasks = 2 }, serial, parallel) {
  const iterations = calibrate(spin, ms);
  const slots = Array.from({ length: tasks }, (_, i) => i);
  const run = async (how, n) => {
    const s = stamps(2 * tasks);
    const t0 = nowUs();
    await how(n, s.shared, slots);
    return { ms: (nowUs() - t0) / 1000, runs: slots.map((slot) => workSpan(s, slot, t0)) };
  };
  const small = Math.max(1, Math.round(iterations / 100));
  await run(serial, small);
  await run(parallel, small);
  const one = await run(serial, iterations);
  const all = await run(parallel, iterations);
  return {
    ms, tasks, iterations, serialMs: round3(one.ms), parallelMs: round3(all.ms),
    speedup: one.ms / all.ms, serial: one.runs, parallel: all.runs,
  };
}

/**
 * The serial half of cpuResult for the peers whose threads need a Worker: the runs on this thread.
 */
export async function onThisThread(iterations, shared, slots) {
  for (const slot of slots) cpuWork(iterations, shared, slot);
}

/** One CPU-bound run: when its work began (ms after t0) and how long it took (ms), from stamps. */
export const workSpan = (s, slot, t0) => {
  if (s.us(2 * slot + 1) === 0) fail(`CPU-bound run ${slot} did not finish`);
  return { beganMs: round3((s.us(2 * slot) - t0) / 1000),
    workMs: round3((s.us(2 * slot + 1) - s.us(2 * slot)) / 1000) };
};

export function fail(message) {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}
