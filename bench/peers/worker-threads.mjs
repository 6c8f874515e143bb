// worker_threads peer: one measurement per process (see common.mjs for the protocol).
// A Worker is the closest Node.js built-in to "a real OS thread": it also gets its own isolate and
// event loop, which is what it pays for at start and in memory.
import { Worker } from 'node:worker_threads';
import { cpuResult, done, fail, oneAtATime, lagResult, lanes, nowUs, onThisThread, params, round1, settledRss, sleep, tasks, warmedUp } from './common.mjs';

// First line: the monotonic clock (shared by all threads of the process); then tell the parent.
const FIRST_LINE = "const t = process.hrtime.bigint(); require('node:worker_threads').parentPort.postMessage(t);";
const EMPTY = '';
// Idle: posts 'ready', then stays alive with nothing to do (a ref'd MessagePort listener).
const IDLE = "const { parentPort } = require('node:worker_threads'); parentPort.on('message', () => {}); parentPort.postMessage('ready');";

const exited = (w) => new Promise((resolve, reject) => { w.once('exit', resolve); w.once('error', reject); });
const timeout = (ms, what) => new Promise((_, reject) => setTimeout(() => reject(new Error(`${what} timed out`)), ms).unref());

async function latency(n) {
  const samples = [];
  const startCall = [];
  for (let i = 0; i < n; i++) {
    const t0 = nowUs();
    const w = new Worker(FIRST_LINE, { eval: true });
    startCall.push(nowUs() - t0);
    const t = await Promise.race([new Promise((resolve) => w.once('message', resolve)), timeout(30_000, 'worker start')]);
    samples.push(Number(t) / 1000 - t0);
    await Promise.race([exited(w), timeout(30_000, 'worker exit')]);
  }
  return { samples, startCall };
}

// Module-target rows: a plain Worker whose entry (plain-worker.mjs) imports module-work.mjs and
// calls the export, as a module target's Worker does without background-thread's layer.
const PLAIN = new URL('./plain-worker.mjs', import.meta.url);
const WORK = new URL('./module-work.mjs', import.meta.url).href;
const plainWorker = (exportName, args) =>
  new Worker(PLAIN, { workerData: { url: WORK, exportName, args } });

const moduleLatency = (n) => oneAtATime(n, (shared) =>
  Promise.race([exited(plainWorker('firstLine', [shared])), timeout(30_000, 'worker exit')]));

// Serial: the runs one after the other on the main thread. Parallel: a plain Worker each, at once.
const allAtOnce = async (iterations, shared, slots) => {
  const workers = slots.map((slot) => plainWorker('cpuWork', [iterations, shared, slot]));
  await Promise.race([Promise.all(workers.map(exited)), timeout(120_000, 'workers')]);
};
const cpu = () => cpuResult(params, onThisThread, allAtOnce);

async function throughput(n, inFlight) {
  return lanes(n, inFlight, async () => {
    const w = new Worker(EMPTY, { eval: true });
    await Promise.race([exited(w), timeout(60_000, 'worker exit')]);
  });
}

async function startIdle(count, resourceLimits) {
  const workers = [];
  const ready = [];
  for (let i = 0; i < count; i++) {
    const w = new Worker(IDLE, { eval: true, resourceLimits });
    w.on('error', (e) => fail(`worker error: ${e.message}`));
    ready.push(new Promise((resolve) => w.once('message', resolve)));
    workers.push(w);
  }
  await Promise.race([Promise.all(ready), timeout(120_000, 'idle workers')]);
  return workers;
}

const { metric } = params;
try {
  if (metric === 'latency') {
    await warmedUp(latency);
  } else if (metric === 'throughput') {
    await warmedUp((n) => throughput(n, params.inFlight));
  } else if (metric === 'rss') {
    const { alive, stack } = params;
    // stack 0: Node's default (4 MiB of stack for V8). Otherwise resourceLimits.stackSizeMb, which
    // Node raises to its floor (kStackBufferSize, 192 KiB) when asked for less.
    const limits = stack ? { stackSizeMb: stack / 1048576 } : undefined;
    for (const w of await startIdle(params.warmup, limits)) await w.terminate();
    const before = await settledRss();
    const tasksBefore = tasks();
    const workers = await startIdle(alive, limits);
    await sleep(200);  // let the Workers finish their own start-up allocations
    const after = await settledRss();
    const liveTasks = tasks() - tasksBefore;
    done({ alive, stack, before, after, tasks: liveTasks,
      perThreadKiB: round1((after - before) / alive / 1024) });
    void workers;
  } else if (metric === 'module-latency') {
    await warmedUp(moduleLatency);
  } else if (metric === 'module-throughput') {
    await warmedUp((n) => lanes(n, params.inFlight, () => Promise.race([exited(plainWorker('empty', [])), timeout(60_000, 'worker exit')])));
  } else if (metric === 'cpu') {
    done(await cpu());
  } else if (metric === 'lag') {
    if (params.idle) await startIdle(params.idle);
    done(await lagResult(params.idle, params.seconds));
  } else {
    fail(`unknown metric ${metric}`);
  }
} catch (error) {
  fail(error.stack);
}
