// One "cost to the app" measurement, in a fresh process of whichever Node binary runs it (the
// bench's app-cost job, peers/app-cost.mjs, starts one per mode):
//   node bench/peers/app.mjs '{"mode", "what", ...}'   -> { value, runs? }
// mode: 'none' (the package is not loaded), 'imported', 'thread' (one BackgroundThread with a
// function target started and joined first), 'daemon' (the same, daemon: true). what:
//   'await' { awaits, runs }: ns per `await` of a plain value in an async loop, the median of
//           `runs` loops of `awaits` awaits (after one of a tenth as a warm-up)
//   'http'  { requests, concurrency }: requests/s of a node:http server with an async handler,
//           under a load of `requests` keep-alive requests, `concurrency` at a time, from a
//           client in another process (peers/http-load.mjs, the same Node binary)
// BENCH_PACKAGE=DIR: the package built in DIR (the bench's --baseline) instead of this checkout's.
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median } from '../stats.mjs';

const params = JSON.parse(process.argv[2]);
const fail = (message) => { process.stderr.write(`${message}\n`); process.exit(1); };

async function load(mode) {
  if (mode === 'none') return;
  const pkg = process.env.BENCH_PACKAGE
    ? await import(pathToFileURL(join(process.env.BENCH_PACKAGE, 'dist/index.mjs')).href)
    : await import('background-thread');
  if (mode === 'imported') return;
  const t = new pkg.BackgroundThread({ daemon: mode === 'daemon', target: async () => { await null; } });
  t.start();
  if (!(await t.join(30))) fail('join timed out');
}

async function awaitLoop(n) {
  for (let i = 0; i < n; i++) await i;
}

async function nsPerAwait({ awaits, runs }) {
  await awaitLoop(Math.round(awaits / 10));
  const each = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    await awaitLoop(awaits);
    each.push(Math.round((performance.now() - t0) * 1e6 / awaits * 10) / 10);
  }
  return { value: median(each), runs: each };
}

async function requestsPerSecond({ requests, concurrency }) {
  const server = createServer(async (req, res) => {
    await null;  // handlers are async functions in most apps
    res.end('ok');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = fileURLToPath(new URL('./http-load.mjs', import.meta.url));
  const args = [client, JSON.stringify({ port: server.address().port, requests, concurrency })];
  const out = await new Promise((resolve, reject) => {
    execFile(process.execPath, args, { timeout: 300_000 }, (error, stdout) => (error ? reject(error) : resolve(stdout)));
  });
  server.close();
  return { value: JSON.parse(out.trim().split('\n').pop()).perSecond };
}

await load(params.mode);
const result = params.what === 'await' ? await nsPerAwait(params) : await requestsPerSecond(params);
process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
