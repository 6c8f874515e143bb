// background-thread peer: one measurement per process (see common.mjs for the protocol).
// BENCH_PACKAGE=DIR (run.mjs --baseline DIR): the same measurements of the package built in DIR,
// another checkout; otherwise this checkout's, through the package's self-reference. A build
// without warm isolates (no setIsolatePool export) answers { na: 'no warm isolates' } to the
// measurements that need them, and runs its module targets (all fresh) without the isolate option.
import os from 'node:os';
import { cpuResult, done, fail, importPackage, oneAtATime, lagResult, lanes, nowUs, params, parkedTasks, round1, settledRss, sleep, tasks, warmedUp } from './common.mjs';
import { appCost } from './app-cost.mjs';
import { cpuWork } from './module-work.mjs';

// RSS per live thread: the warm-up's OS threads must not be parked for the measured threads to
// reuse (their pages are in `before`), so they end 0.1 s after the warm-up here and the test
// waits for that; every measured thread is then a new OS thread, as in the other peers.
if (params.metric === 'rss') process.env.BACKGROUND_THREAD_PARKED_IDLE_SECONDS = '0.1';
const pkg = await importPackage();
const { BackgroundThread, setIsolatePool, isolatePool } = pkg;
const hasPool = typeof setIsolatePool === 'function';
const NO_POOL = { na: 'no warm isolates' };

const WORK = new URL('./module-work.mjs', import.meta.url);

/**
 * A module thread running module-work.mjs's export. isolate 'fresh': the option, where the build
 * has it (without, every module target is fresh); 'warm' or none: no option, the default policy.
 */
const moduleThread = (exportName, args, isolate) => new BackgroundThread({
  target: { module: WORK, export: exportName }, args, ...(isolate === 'fresh' && hasPool ? { isolate } : {}),
});

const never = new Promise(() => {});

async function latency(n) {
  const samples = [];
  const startCall = [];
  for (let i = 0; i < n; i++) {
    let t0 = 0;
    let reached;
    const ran = new Promise((resolve) => { reached = resolve; });
    const t = new BackgroundThread({ target: () => { reached(nowUs() - t0); } });
    t0 = nowUs();  // just before start(): construction is not counted
    t.start();
    startCall.push(nowUs() - t0);
    samples.push(await ran);
    if (!(await t.join(10))) fail('join timed out');
  }
  return { samples, startCall };
}

async function throughput(n, inFlight) {
  return lanes(n, inFlight, async () => {
    const t = new BackgroundThread({ target: () => {} });
    t.start();
    if (!(await t.join(10))) fail('join timed out');
  });
}

/** Starts `count` threads whose targets wait on `gate`; resolves once every target has run. */
async function startWaiting(count, stack, gate) {
  let running = 0;
  const threads = [];
  for (let i = 0; i < count; i++) {
    const t = new BackgroundThread({ target: () => { running++; return gate; }, stackSize: stack });
    t.start();
    threads.push(t);
  }
  const deadline = Date.now() + 60_000;
  while (running < count) {
    if (Date.now() > deadline) fail(`only ${running} of ${count} targets ran`);
    await sleep(5);
  }
  return threads;
}

/** Module targets, one at a time: start -> the export's first line, and -> join() resolved. */
function moduleLatency(n, isolate) {
  // Constructed before the clock starts: construction is not counted.
  const start = (_shared, t) => {
    t.start();
    return t.join(30).then((ended) => { if (!ended) fail('join timed out'); });
  };
  start.prepare = (shared) => moduleThread('firstLine', [shared], isolate);
  return oneAtATime(n, start);
}

/**
 * Start+join of the empty export, inFlight lanes (warm isolates: the default policy, or capped).
 */
async function moduleThroughput(n, inFlight) {
  return lanes(n, inFlight, async () => {
    const t = moduleThread('empty', []);
    t.start();
    if (!(await t.join(60))) fail('join timed out');
  });
}

/**
 * `slots.length` threads of `target` running cpuWork(iterations, shared, slot), started together.
 */
async function allAtOnce(target, iterations, shared, slots) {
  const threads = slots.map((slot) =>
    new BackgroundThread({ target, args: [iterations, shared, slot] }));
  for (const t of threads) t.start();
  for (const t of threads) if (!(await t.join(120))) fail('join timed out');
}

// The same export either way. Serial: event-loop targets (the function itself); they share this
// loop, so one runs after the other. Parallel: module targets, each in its own isolate (warm
// ones, left by the warm-up, where the build has them).
const moduleTarget = { module: WORK, export: 'cpuWork' };
const cpu = () => cpuResult(params, (...a) => allAtOnce(cpuWork, ...a),
  (...a) => allAtOnce(moduleTarget, ...a));

/**
 * n module threads at once (gather: n distinct isolates), joined: RSS per isolate the pool keeps
 * idle (maxIdle = n, so that none ends while it is measured).
 */
async function idleRss(n) {
  setIsolatePool({ maxIdle: n });
  const before = await settledRss();
  const count = new SharedArrayBuffer(4);
  const threads = Array.from({ length: n }, () => moduleThread('gather', [count, n]));
  for (const t of threads) t.start();
  for (const t of threads) if (!(await t.join(60))) fail('join timed out');
  if (!threads.every((t) => t.result === true)) fail(`only ${new Int32Array(count)[0]} of ${n} module threads ran at once`);
  await sleep(200);  // the isolates go idle; their start-up allocations settle
  const { idle } = isolatePool();
  if (!(idle >= 1)) fail(`isolatePool().idle is ${idle} after ${n} module threads ended`);
  const after = await settledRss();
  return { n, idle, before, after, perIdleKiB: round1((after - before) / idle / 1024) };
}

const { metric } = params;
if (metric === 'latency') {
  await warmedUp(latency);
} else if (metric === 'throughput') {
  await warmedUp((n) => throughput(n, params.inFlight));
} else if (metric === 'rss') {
  const { alive, stack } = params;
  // Warm-up: the same code paths (and glibc's stack cache) with a few threads, started and joined.
  let release;
  let gate = new Promise((resolve) => { release = resolve; });
  let warm = await startWaiting(params.warmup, stack, gate);
  release();
  await Promise.all(warm.map((t) => t.join(10)));
  warm = null;
  for (let i = 0; i < 100 && parkedTasks() > 0; i++) await sleep(20);
  const before = await settledRss();
  const tasksBefore = tasks();
  gate = new Promise((resolve) => { release = resolve; });
  const threads = await startWaiting(alive, stack, gate);
  await sleep(50);
  const after = await settledRss();
  const liveTasks = tasks() - tasksBefore;
  if (liveTasks < alive) fail(`${liveTasks} OS threads for ${alive} live threads`);
  release();
  const joined = await Promise.all(threads.map((t) => t.join(30)));
  if (!joined.every(Boolean)) fail('join timed out');
  done({ alive, stack, before, after, tasks: liveTasks,
    perThreadKiB: round1((after - before) / alive / 1024) });
} else if (metric === 'module-latency') {
  if (params.isolate === 'warm' && !hasPool) done(NO_POOL);
  else await warmedUp((n) => moduleLatency(n, params.isolate));
} else if (metric === 'module-throughput') {
  if (!hasPool) done(NO_POOL);
  else {
    if (params.cap) setIsolatePool({ maxIsolates: os.availableParallelism() });
    // The pool's isolates once measured: how many the default policy's burst left.
    const isolates = () => { const { idle, busy } = isolatePool(); return idle + busy; };
    await warmedUp(async (n) => ({ ...(await moduleThroughput(n, params.inFlight)),
      isolates: isolates() }));
  }
} else if (metric === 'idle-rss') {
  done(hasPool ? await idleRss(params.n) : NO_POOL);
} else if (metric === 'cpu') {
  done(await cpu());
} else if (metric === 'app-cost') {
  done(await appCost(params));
} else if (metric === 'remote') {
  // Imported here: BullMQ (and ioredis) stay out of the other measurements' processes.
  const { remote } = await import('./remote.mjs');
  done(await remote(pkg, params));
} else if (metric === 'control') {
  const { backgroundThread } = await import('./control.mjs');
  done(typeof BackgroundThread.prototype.cancel === 'function'
    ? await backgroundThread(pkg, params) : { na: 'no cancellation' });
} else if (metric === 'lag') {
  if (params.idle) await startWaiting(params.idle, 0, never);
  done(await lagResult(params.idle, params.seconds));
} else {
  fail(`unknown metric ${metric}`);
}
