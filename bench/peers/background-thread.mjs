// background-thread peer: one measurement per process (see common.mjs for the protocol).
import { BackgroundThread } from 'background-thread';
import { done, fail, lagResult, lanes, nowUs, params, round1, settledRss, sleep, tasks } from './common.mjs';

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

const { metric } = params;
if (metric === 'latency') {
  await latency(params.warmup);
  const { samples, startCall } = await latency(params.n);
  done({ samples: samples.map(round1), startCall: startCall.map(round1) });
} else if (metric === 'throughput') {
  await throughput(params.warmup, params.inFlight);
  done(await throughput(params.n, params.inFlight));
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
} else if (metric === 'lag') {
  if (params.idle) await startWaiting(params.idle, 0, never);
  done(await lagResult(params.idle, params.seconds));
} else {
  fail(`unknown metric ${metric}`);
}
