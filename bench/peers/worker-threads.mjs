// worker_threads peer: one measurement per process (see common.mjs for the protocol).
// A Worker is the closest Node.js built-in to "a real OS thread": it also gets its own isolate and
// event loop, which is what it pays for at start and in memory.
import { Worker } from 'node:worker_threads';
import { done, fail, lagResult, lanes, nowUs, params, round1, settledRss, sleep, tasks } from './common.mjs';

// First line: the monotonic clock (shared by all threads of the process); then tell the parent.
const FIRST_LINE = `const t = process.hrtime.bigint(); require('node:worker_threads').parentPort.postMessage(t);`;
const EMPTY = ``;
// Idle: posts 'ready', then stays alive with nothing to do (a ref'd MessagePort listener).
const IDLE = `const { parentPort } = require('node:worker_threads'); parentPort.on('message', () => {}); parentPort.postMessage('ready');`;

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
    await latency(params.warmup);
    const { samples, startCall } = await latency(params.n);
    done({ samples: samples.map(round1), startCall: startCall.map(round1) });
  } else if (metric === 'throughput') {
    await throughput(params.warmup, params.inFlight);
    done(await throughput(params.n, params.inFlight));
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
    done({ alive, stack, before, after, tasks: liveTasks, perThreadKiB: round1((after - before) / alive / 1024) });
    void workers;
  } else if (metric === 'lag') {
    if (params.idle) await startIdle(params.idle);
    done(await lagResult(params.idle, params.seconds));
  } else {
    fail(`unknown metric ${metric}`);
  }
} catch (error) {
  fail(error.stack);
}
