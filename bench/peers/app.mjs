// One "cost to the app" measurement, in a fresh process of whichever Node binary runs it (the
// bench's app-cost job, peers/app-cost.mjs, starts one per mode):
//   node bench/peers/app.mjs '{"mode", "what", ...}'   -> { before, after, speed }
// Paired in one process, so that what differs between processes (the CPU it lands on, the
// other processes of a shared host) cancels out: the app is measured, then `mode` is applied,
// then the app is measured again; speed = after's speed / before's (1: no cost). mode: 'none'
// (nothing: the pair's own noise), 'imported' (the package), 'thread' (one BackgroundThread
// with a function target started and joined), 'daemon' (the same, daemon: true), 'traced' (the
// package's two TracingChannels subscribed as an APM tool does, every event and a bound store,
// then one thread run). what:
//   'await' { awaits, runs }: CPU ns per `await` of a plain value in an async loop, the median
//           of `runs` loops of `awaits` awaits (each measure after as many loops as a warm-up)
//   'http'  { requests, concurrency }: requests per CPU second of a node:http server with an
//           async handler, under `requests` keep-alive requests, `concurrency` at a time, from a
//           client in another process (peers/http-load.mjs, the same Node binary), each measure
//           after one such load as a warm-up
//   'threads' { threads, runs }: CPU ns per thread of `threads` function-target threads started
//           and joined one after the other, the median of `runs` such loops (each measure after
//           one loop as a warm-up): with 'traced', what a subscribed channel costs per thread
// CPU time (process.cpuUsage), not wall time: what the app spends is what the package costs it,
// and other processes on a shared host take wall time, not this process's CPU time.
// BENCH_PACKAGE=DIR: the package built in DIR (the bench's --baseline) instead of this checkout's.
import { execFile } from 'node:child_process';
import { AsyncLocalStorage } from 'node:async_hooks';
import { tracingChannel } from 'node:diagnostics_channel';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { median } from '../stats.mjs';
import { done, fail, importPackage, params } from './common.mjs';

async function load(mode) {
  if (mode === 'none') return;
  const pkg = await importPackage();
  if (mode === 'imported') return;
  if (mode === 'traced') subscribe();
  const t = new pkg.BackgroundThread({ daemon: mode === 'daemon', target: async () => { await null; } });
  t.start();
  if (!(await t.join(30))) fail('join timed out');
}

// As an APM tool subscribes: every event of both channels, a store bound to the run's start (a
// context from the carrier), a field written into the carrier at the start.
function subscribe() {
  const store = new AsyncLocalStorage();
  const noop = () => {};
  for (const name of ['start', 'run']) {
    const traced = tracingChannel(`background-thread:${name}`);
    traced.subscribe({
      start: name === 'start' ? (ctx) => { ctx.carrier.traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'; } : noop,
      end: noop, asyncStart: noop, asyncEnd: noop, error: noop,
    });
  }
  tracingChannel('background-thread:run').start.bindStore(store, (ctx) => ctx.carrier);
}

async function nsPerThread({ threads, runs }) {
  const { BackgroundThread } = await importPackage();
  const target = () => {};
  const each = [];
  for (let r = 0; r < runs; r++) {
    const t0 = process.cpuUsage();
    for (let i = 0; i < threads; i++) {
      const t = new BackgroundThread({ target });
      t.start();
      await t.join();
    }
    const { user, system } = process.cpuUsage(t0);
    each.push(Math.round((user + system) * 1000 / threads));
  }
  return median(each);
}

async function awaitLoop(n) {
  for (let i = 0; i < n; i++) await i;
}

async function nsPerAwait({ awaits, runs }) {
  const each = [];
  for (let r = 0; r < runs; r++) {
    const t0 = process.cpuUsage();
    await awaitLoop(awaits);
    const { user, system } = process.cpuUsage(t0);
    each.push(Math.round((user + system) * 1000 / awaits * 10) / 10);
  }
  return median(each);
}

const server = createServer(async (req, res) => {
  await null;  // handlers are async functions in most apps
  res.end('ok');
});

async function requestsPerSecond({ requests, concurrency }) {
  const client = fileURLToPath(new URL('./http-load.mjs', import.meta.url));
  const args = [client, JSON.stringify({ port: server.address().port, requests, concurrency })];
  const t0 = process.cpuUsage();
  await new Promise((resolve, reject) => {
    execFile(process.execPath, args, { timeout: 300_000 },
      (error, stdout) => (error ? reject(error) : resolve(stdout)));
  });
  const { user, system } = process.cpuUsage(t0);
  return Math.round(requests / ((user + system) / 1e6));
}

let measure = nsPerAwait;
let warmUp = () => awaitLoop(params.awaits * params.runs);
if (params.what === 'threads') {
  measure = nsPerThread;
  warmUp = () => nsPerThread({ ...params, runs: 1 });
} else if (params.what === 'http') {
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  measure = requestsPerSecond;
  warmUp = () => measure(params);
}
// A warm-up (JIT, heap, sockets) before each measure: enabling an async hook sends Node's
// nextTick and resource paths back through the JIT once, a one-time cost that is not the app's
// steady speed, which is what both measures compare.
await warmUp();
const before = await measure(params);
await load(params.mode);
await warmUp();
const after = await measure(params);
server.close();
const speed = params.what === 'http' ? after / before : before / after;
done({ before, after, speed: Math.round(speed * 1000) / 1000 });
