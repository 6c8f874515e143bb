// background-thread peer: one measurement per process (see common.mjs for the protocol).
// BENCH_PACKAGE=DIR (run.mjs --baseline DIR): the same measurements of the package built in DIR,
// another checkout; otherwise this checkout's, through the package's self-reference.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { calibrate, done, fail, lagResult, lanes, nowUs, params, round1, round3, settledRss, sleep, stamps, tasks, warmedUp, workSpan } from './common.mjs';
import { cpuWork, spin } from './module-work.mjs';

const { BackgroundThread } = process.env.BENCH_PACKAGE
  ? await import(pathToFileURL(join(process.env.BENCH_PACKAGE, 'dist/index.mjs')).href)
  : await import('background-thread');

const WORK = new URL('./module-work.mjs', import.meta.url);

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
async function moduleLatency(n) {
  const samples = [];
  const startCall = [];
  const joined = [];
  const began = nowUs();
  for (let i = 0; i < n; i++) {
    const s = stamps(1);
    const t = new BackgroundThread({ target: { module: WORK, export: 'firstLine' }, args: [s.shared] });
    const t0 = nowUs();  // just before start(): construction is not counted
    t.start();
    startCall.push(nowUs() - t0);
    if (!(await t.join(30))) fail('join timed out');
    joined.push(nowUs() - t0);
    if (s.us(0) === 0) fail('the export did not run');
    samples.push(s.us(0) - t0);
  }
  const seconds = (nowUs() - began) / 1e6;
  return { samples, startCall, joined, seconds, perSecond: n / seconds };
}

/** Two threads running spin(iterations), started together; resolves once both have joined. */
async function twoThreads(target, iterations) {
  const s = stamps(4);
  const threads = [0, 1].map((slot) => new BackgroundThread({ target, args: [iterations, s.shared, slot] }));
  const t0 = nowUs();
  for (const t of threads) t.start();
  for (const t of threads) if (!(await t.join(120))) fail('join timed out');
  const ms = (nowUs() - t0) / 1000;
  return { ms, runs: [0, 1].map((slot) => workSpan(s, slot, t0)) };
}

// The same export either way. Serial: two event-loop targets (the function itself); they share
// this loop, so one runs after the other. Parallel: two module targets, each in its own Worker.
const loopTarget = cpuWork;
const moduleTarget = { module: WORK, export: 'cpuWork' };

async function cpu(ms) {
  const iterations = calibrate(spin, ms);
  const small = Math.max(1, Math.round(iterations / 100));
  await twoThreads(loopTarget, small);  // warm-up: both paths once, with 1% of the work
  await twoThreads(moduleTarget, small);
  const serial = await twoThreads(loopTarget, iterations);
  const parallel = await twoThreads(moduleTarget, iterations);
  return {
    ms, iterations, serialMs: round3(serial.ms), parallelMs: round3(parallel.ms), speedup: serial.ms / parallel.ms,
    serial: serial.runs, parallel: parallel.runs,
  };
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
  done({ alive, stack, before, after, tasks: liveTasks, perThreadKiB: round1((after - before) / alive / 1024) });
} else if (metric === 'module-latency') {
  await warmedUp(moduleLatency);
} else if (metric === 'cpu') {
  done(await cpu(params.ms));
} else if (metric === 'lag') {
  if (params.idle) await startWaiting(params.idle, 0, never);
  done(await lagResult(params.idle, params.seconds));
} else {
  fail(`unknown metric ${metric}`);
}
