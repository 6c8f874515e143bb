// The demo server (npm run demo), driven over real HTTP in a child process: a job answers 202
// with its thread's ident before it ends, and /threads lists it alive, then finished; bad input
// is a 400 that starts nothing; SIGTERM waits for running non-daemon jobs, not daemon ones, up to
// the drain timeout, and a second signal exits at once. The cluster launcher (npm run
// demo:cluster) runs the jobs on its two workers, and stops server, workers and Redis on SIGTERM.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { haveRedis } from '../scripts/redis-server.mjs';
import { ROOT, processExists } from './helpers/child.mjs';
import { until } from './helpers/wait.mjs';

const SERVER = fileURLToPath(new URL('../examples/demo/server.mjs', import.meta.url));
const CLUSTER = fileURLToPath(new URL('../examples/demo/cluster.mjs', import.meta.url));

/**
 * Starts the demo (or `script`, or the command `argv`) on a free port; resolves {base, child,
 * output(), exited}. The child is killed `killAfter` seconds after its start: a hang guard.
 */
async function startDemo(env = {},
  { script = SERVER, argv = [process.execPath, script], killAfter = 30 } = {}) {
  const child = spawn(argv[0], argv.slice(1), {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => { stdout += chunk; });
  child.stderr.setEncoding('utf8').on('data', (chunk) => { stderr += chunk; });
  const exited = once(child, 'exit').then(([code, signal]) => ({ code, signal, at: performance.now() }));
  const killer = setTimeout(() => child.kill('SIGKILL'), killAfter * 1000);
  exited.then(() => clearTimeout(killer));
  // Hang guards (the server listens, and handles a signal, in well under a second): generous,
  // because the machine may be loaded (npm run test:loaded).
  await until(() => /listening on (http:\S+)/.test(stdout) || child.exitCode !== null, 30, 'the demo to listen');
  const base = /listening on (http:\S+)/.exec(stdout)?.[1];
  assert.ok(base, `no URL printed:\n${stdout}\n${stderr}`);
  return { base: base.replace(/\/$/, ''), child, exited, output: () => ({ stdout, stderr }) };
}

const postJob = (base, query) => fetch(`${base}/jobs?${query}`, { method: 'POST' });
const threads = async (base) => (await fetch(`${base}/threads`)).json();

test('a job answers 202 with its ident and name before it ends; /threads shows it alive, then finished', async () => {
  const demo = await startDemo();
  try {
    const res = await postJob(demo.base, 'seconds=1');
    assert.is(res.status, 202);
    assert.match(res.headers.get('content-type'), /application\/json/);
    const job = await res.json();
    assert.ok(Number.isSafeInteger(job.ident) && job.ident > 0);
    assert.is(job.name, 'report-1s');

    const during = await threads(demo.base);
    const live = during.threads.find((t) => t.ident === job.ident);
    assert.ok(live, 'listed while it runs: the response came before the job ended');
    assert.is(live.alive, true);
    assert.is(live.daemon, false);
    assert.ok(Number.isSafeInteger(live.nativeId));
    assert.ok(live.progress < 1);
    assert.ok(Date.parse(live.started) > 0);
    assert.is(live.ended, null);
    assert.ok(during.threads.some((t) => t.name === 'MainThread'));

    let after;
    // A hang guard (the job takes ~1 s), generous; /threads asked every 100 ms.
    await until(
      async () => (after = await threads(demo.base)).finished.some((t) => t.ident === job.ident),
      25, 'the job to finish', 100);
    const done = after.finished.find((t) => t.ident === job.ident);
    assert.ok(done, 'moved to the finished list');
    assert.is(done.alive, false);
    assert.is(done.progress, 1);
    assert.ok(Date.parse(done.ended) >= Date.parse(done.started));
    assert.not.ok(after.threads.some((t) => t.ident === job.ident));
    assert.match(demo.output().stdout, /report-1s \(ident \d+\) finished: 20000 orders/);
  } finally {
    demo.child.kill('SIGKILL');
  }
});

test('GET / is an HTML page with the form; unknown routes and methods are 404/405', async () => {
  const demo = await startDemo();
  try {
    const page = await fetch(`${demo.base}/`);
    assert.is(page.status, 200);
    assert.match(page.headers.get('content-type'), /text\/html/);
    const html = await page.text();
    assert.match(html, /<form/);
    assert.match(html, /\/threads/);
    assert.is((await fetch(`${demo.base}/nope`)).status, 404);
    assert.is((await fetch(`${demo.base}/jobs`)).status, 405);
  } finally {
    demo.child.kill('SIGKILL');
  }
});

test('bad seconds or daemon get 400 with a JSON error, and start nothing', async () => {
  const demo = await startDemo();
  try {
    for (const query of ['', 'seconds=', 'seconds=-1', 'seconds=0', 'seconds=abc', 'seconds=1e9', 'seconds=Infinity', 'seconds=1&daemon=yes']) {
      const res = await postJob(demo.base, query);
      assert.is(res.status, 400, query);
      const body = await res.json();
      assert.type(body.error, 'string');
    }
    assert.is((await threads(demo.base)).threads.length, 1, 'only the main thread');
  } finally {
    demo.child.kill('SIGKILL');
  }
});

test('SIGTERM waits for a running non-daemon job, then exits 0', async () => {
  const demo = await startDemo();
  await (await postJob(demo.base, 'seconds=1.5')).json();
  const signalled = performance.now();
  demo.child.kill('SIGTERM');
  const { code, signal, at } = await demo.exited;
  const { stdout } = demo.output();
  assert.is(signal, null);
  assert.is(code, 0, stdout);
  assert.match(stdout, /SIGTERM: no new connections; waiting up to 30s for 1 job\(s\): report-1\.5s/);
  assert.match(stdout, /report-1\.5s \(ident \d+\) finished/);
  assert.match(stdout, /all jobs done; bye/);
  assert.ok(stdout.indexOf('waiting') < stdout.indexOf('finished'), 'the job finished after the signal');
  assert.ok(at - signalled > 500, 'it waited for the job');
});

test('SIGTERM does not wait for a daemon job; a second signal exits at once', async () => {
  const demo = await startDemo();
  await (await postJob(demo.base, 'seconds=60&daemon=1')).json();
  const signalled = performance.now();
  demo.child.kill('SIGTERM');
  const first = await demo.exited;
  const { stdout } = demo.output();
  assert.is(first.code, 0, stdout);
  assert.match(stdout, /abandoning daemon job\(s\): report-60s-daemon/);
  assert.not.match(stdout, /finished:/);
  // A hang guard, not a speed check: waiting for the job would take 60 s (the killer ends the
  // child 30 s after its start anyway, with code null).
  assert.ok(first.at - signalled < 25_000, 'did not wait a minute');

  const second = await startDemo({ DRAIN_SECONDS: '60' });
  await (await postJob(second.base, 'seconds=60')).json();
  second.child.kill('SIGINT');
  await until(() => /waiting up to 60s/.test(second.output().stdout), 30, 'the first signal to be handled');
  second.child.kill('SIGINT');
  const again = await second.exited;
  assert.is(again.code, 130, 'exits at once with 128 + SIGINT');
  assert.match(second.output().stdout, /SIGINT again: exiting now/);
});

test('the drain has a timeout: DRAIN_SECONDS passes, exit 1', async () => {
  const demo = await startDemo({ DRAIN_SECONDS: '0.3' });
  await (await postJob(demo.base, 'seconds=60')).json();
  demo.child.kill('SIGTERM');
  const { code } = await demo.exited;
  assert.is(code, 1);
  assert.match(demo.output().stdout, /drain timed out after 0\.3s/);
});

// The cluster needs redis-server: CI must have it (a missing one fails there); elsewhere the test
// is skipped, and says so.
const CI = process.env.CI === 'true' || process.env.CI === '1';
const REDIS = haveRedis();
const clusterTest = REDIS || CI ? test : test.skip;
if (!REDIS && !CI) console.log('demo.test.mjs: redis-server is not installed: skipping the demo:cluster test');

clusterTest('demo:cluster: jobs run on worker-1/worker-2 and come back with their reports; SIGTERM stops it all, exit 0', async () => {
  assert.ok(REDIS, 'redis-server is not installed (apt-get install redis-server): CI must run this test');
  // A hang guard: Redis, two workers and the server start in a few seconds, the jobs take ~1 s.
  const demo = await startDemo({}, { script: CLUSTER, killAfter: 120 });
  const pids = () => Object.fromEntries([...demo.output().stdout.matchAll(/demo:cluster: (\S+) pid (\d+)/g)]
    .map(([, name, pid]) => [name, Number(pid)]));
  try {
    const { stdout } = demo.output();
    const socket = /redis-server pid \d+ on (\S+)/.exec(stdout)?.[1];
    assert.ok(socket && existsSync(socket), `Redis's socket:\n${stdout}`);
    assert.equal(Object.keys(pids()).sort(), ['redis-server', 'server', 'worker-1', 'worker-2']);

    const started = [];
    for (const query of ['seconds=1', 'seconds=1.5']) {
      const res = await postJob(demo.base, query);
      assert.is(res.status, 202);
      started.push((await res.json()).ident);
    }
    let after;
    // A hang guard: generous (the workers may still be connecting), never a speed check.
    await until(async () => {
      after = await threads(demo.base);
      return started.every((ident) => after.finished.some((t) => t.ident === ident));
    }, 60, 'both jobs to finish', 100);
    assert.is(after.remote, true);
    for (const ident of started) {
      const done = after.finished.find((t) => t.ident === ident);
      assert.ok(['worker-1', 'worker-2'].includes(done.worker), `run by a worker: ${JSON.stringify(done)}`);
      assert.is(done.error, null);
      assert.is(done.report.orders, done.name === 'report-1s' ? 20000 : 30000);
      assert.type(done.report.bestRegion, 'string');
      assert.match(demo.output().stdout, new RegExp(`${done.name} \\(ident ${ident}\\) finished on ${done.worker}: `));
    }

    demo.child.kill('SIGTERM');
    const { code, signal } = await demo.exited;
    const out = demo.output();
    assert.is(signal, null, out.stdout);
    assert.is(code, 0, `${out.stdout}\n${out.stderr}`);
    assert.match(out.stdout, /demo:cluster: all stopped; bye/);
    for (const [name, pid] of Object.entries(pids())) assert.not.ok(processExists(pid), `${name} (pid ${pid}) is gone`);
    assert.not.ok(existsSync(socket), 'Redis\'s socket is removed');
  } finally {
    // After a failure: what the launcher started must not outlive the test.
    demo.child.kill('SIGKILL');
    for (const pid of Object.values(pids())) if (processExists(pid)) process.kill(pid, 'SIGKILL');
  }
});

clusterTest('npm run demo:cluster: SIGTERM to npm\'s pid stops the server, the workers and redis-server', async () => {
  assert.ok(REDIS, 'redis-server is not installed (apt-get install redis-server): CI must run this test');
  // npm runs the script through `sh -c`, and forwards a signal it gets to that shell only.
  const demo = await startDemo({}, { argv: ['npm', 'run', '--silent', 'demo:cluster'], killAfter: 120 });
  const pids = () => Object.fromEntries([...demo.output().stdout.matchAll(/demo:cluster: (\S+) pid (\d+)/g)]
    .map(([, name, pid]) => [name, Number(pid)]));
  try {
    const socket = /redis-server pid \d+ on (\S+)/.exec(demo.output().stdout)?.[1];
    await until(() => Object.keys(pids()).length === 4, 30, 'the four pids');
    const started = pids();
    assert.not.ok(Object.values(started).includes(demo.child.pid), 'npm is none of them');
    demo.child.kill('SIGTERM');
    await demo.exited;
    // A hang guard: the server, then the workers, then Redis stop in about a second.
    await until(() => Object.values(started).every((pid) => !processExists(pid)), 60,
      `every process to be gone: ${JSON.stringify(started)}\n${demo.output().stdout}\n${demo.output().stderr}`, 100);
    assert.not.ok(existsSync(socket), 'Redis\'s socket is removed');
  } finally {
    demo.child.kill('SIGKILL');
    for (const pid of Object.values(pids())) if (processExists(pid)) process.kill(pid, 'SIGKILL');
  }
});

test.run();
