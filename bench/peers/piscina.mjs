// piscina peer: one measurement per process (see common.mjs for the protocol). The same module
// and export as the module-target rows (module-work.mjs, through piscina-task.mjs), run as tasks
// of a Piscina pool of maxThreads = minThreads = os.availableParallelism() threads: piscina's
// defaults keep only half of them (minThreads) and end the rest as soon as they idle
// (idleTimeout 0), while background-thread keeps availableParallelism() idle isolates (maxIdle).
// "start" = pool.run(task), "first line" = the export's first line in a pool thread, "join" =
// run()'s promise settled. Every measurement runs on a warm pool: its threads up and the module
// loaded (the warm-up tasks), as a long-lived server's pool is.
import os from 'node:os';
import { Piscina } from 'piscina';
import { cpuResult, done, fail, oneAtATime, lanes, onThisThread, params, round1, settledRss, sleep, warmedUp } from './common.mjs';

const TASK = new URL('./piscina-task.mjs', import.meta.url).href;
const cores = os.availableParallelism();
const poolOf = (threads) =>
  new Piscina({ filename: TASK, maxThreads: threads, minThreads: threads });
const run = (pool, exportName, args) => pool.run({ exportName, args });

/** Tasks one at a time: pool.run() -> the export's first line, and -> run() settled. */
const moduleLatency = (pool, n) => oneAtATime(n, (shared) => run(pool, 'firstLine', [shared]));

/** n tasks of module-work.mjs gather at once (n threads), ended: RSS per idle pool thread. */
async function idleRss(n) {
  const before = await settledRss();
  const pool = poolOf(n);
  const count = new SharedArrayBuffer(4);
  const met = await Promise.all(Array.from({ length: n }, () => run(pool, 'gather', [count, n])));
  if (!met.every(Boolean)) fail(`only ${new Int32Array(count)[0]} of ${n} tasks ran at once`);
  await sleep(200);  // the threads go idle; their start-up allocations settle
  const idle = pool.threads.length;
  const after = await settledRss();
  return { n, idle, before, after, perIdleKiB: round1((after - before) / idle / 1024) };
}

const { metric } = params;
try {
  if (metric === 'module-latency') {
    const pool = poolOf(cores);
    await warmedUp((n) => moduleLatency(pool, n));
  } else if (metric === 'module-throughput') {
    const pool = poolOf(cores);
    await warmedUp((n) => lanes(n, params.inFlight, () => run(pool, 'empty', [])));
  } else if (metric === 'cpu') {
    // The pool's threads boot before the loop is calibrated, not while (they would slow it down).
    const pool = poolOf(cores);
    await Promise.all(Array.from({ length: 2 * cores }, () => run(pool, 'empty', [])));
    await sleep(100);
    const parallel = (iterations, shared, slots) => Promise.all(slots.map((slot) => run(pool, 'cpuWork', [iterations, shared, slot])));
    done({ ...(await cpuResult(params, onThisThread, parallel)), threads: cores });
  } else if (metric === 'idle-rss') {
    done(await idleRss(params.n));
  } else if (metric === 'control') {
    const { piscina } = await import('./control.mjs');
    done(await piscina(Piscina, cores, params));
  } else {
    fail(`unknown metric ${metric}`);
  }
} catch (error) {
  fail(error.stack);
}
