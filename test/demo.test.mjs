// The demo server (npm run demo), driven over real HTTP in a child process: a job answers 202
// with its thread's ident before it ends, and /threads lists it alive with its progress (moving,
// 100 before it is done), then finished; Cancel ends a running job as cancelled with its reason;
// bad input is a 400 that starts nothing; SIGTERM waits for running non-daemon jobs and cancels
// daemon ones, up to the drain timeout, and a second signal exits at once. The cluster launcher
// (npm run demo:cluster) runs the jobs on its two workers, with progress and cancel, and stops
// server, workers and Redis on SIGTERM.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { haveRedis } from '../scripts/redis-server.mjs';
import { ROOT, processExists } from './helpers/child.mjs';
import { until, withTimeout } from './helpers/wait.mjs';

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
const cancelJob = (base, ident) => fetch(`${base}/jobs/${ident}/cancel`, { method: 'POST' });

/** Starts a job; resolves with its ident. */
async function startJob(base, query) {
  const res = await postJob(base, query);
  assert.is(res.status, 202);
  return (await res.json()).ident;
}

/**
 * Polls /threads (every 100 ms) until job `ident` is in the finished list; resolves with its
 * entry, and the progress values seen while it was live, each once, in order. `seconds`: a hang
 * guard.
 */
async function watchJob(base, ident, seconds) {
  const seen = [];
  let done;
  await until(async () => {
    const now = await threads(base);
    const live = now.threads.find((t) => t.ident === ident);
    if (live && live.progress !== null && live.progress !== seen.at(-1)) seen.push(live.progress);
    done = now.finished.find((t) => t.ident === ident);
    return done !== undefined;
  }, seconds, `job ${ident} to finish`, 100);
  return { done, seen };
}

/** Polls /threads until job `ident` is live with a progress above 0: its target is running. */
const untilRunning = (base, ident, seconds) => until(async () => {
  const live = (await threads(base)).threads.find((t) => t.ident === ident);
  return live?.progress > 0;
}, seconds, `job ${ident} to run`, 100);

/** A job's progress as the page shows it: percentages, never down, ending at 100. */
function assertProgressed(seen, done) {
  const rising = seen.every((value, i) => value >= 0 && value <= 100 && !(value <= seen[i - 1]));
  assert.ok(rising, `never down: ${seen}`);
  assert.ok(seen.some((value) => value > 0 && value < 100), `it moved: ${seen}`);
  assert.is(done.state, 'done');
  assert.is(done.progress, 100, 'reached 100 before it was done');
}

test('a job answers 202 with its ident and name before it ends; /threads shows it alive, its progress moving to 100, then finished', async () => {
  const demo = await startDemo();
  try {
    const res = await postJob(demo.base, 'seconds=2');
    assert.is(res.status, 202);
    assert.match(res.headers.get('content-type'), /application\/json/);
    const job = await res.json();
    assert.ok(Number.isSafeInteger(job.ident) && job.ident > 0);
    assert.is(job.name, 'report-2s');

    const during = await threads(demo.base);
    const live = during.threads.find((t) => t.ident === job.ident);
    assert.ok(live, 'listed while it runs: the response came before the job ended');
    assert.is(live.alive, true);
    assert.is(live.daemon, false);
    assert.is(live.state, 'running');
    assert.ok(live.progress === null || live.progress < 100, 'a percentage, not there yet');
    assert.ok(Date.parse(live.started) > 0);
    assert.is(live.ended, null);
    assert.is(live.report, null);
    const main = during.threads.find((t) => t.name === 'MainThread');
    assert.ok(main);
    assert.is(main.state, null, 'the main thread is no job');
    await untilRunning(demo.base, job.ident, 25);
    const running = (await threads(demo.base)).threads.find((t) => t.ident === job.ident);
    assert.ok(Number.isSafeInteger(running.nativeId), 'its isolate\'s OS thread');

    // A hang guard (the job takes ~2 s), generous.
    const { done, seen } = await watchJob(demo.base, job.ident, 25);
    assertProgressed(seen, done);
    assert.is(done.alive, false);
    assert.ok(Date.parse(done.ended) >= Date.parse(done.started));
    assert.is(done.report.orders, 40000);
    assert.type(done.report.bestRegion, 'string');
    assert.is(done.reason, null);
    assert.is(done.error, null);
    assert.not.ok((await threads(demo.base)).threads.some((t) => t.ident === job.ident));
    assert.match(demo.output().stdout, /report-2s \(ident \d+\) finished: 40000 orders/);
  } finally {
    demo.child.kill('SIGKILL');
  }
});

test('Cancel ends a running job as cancelled with its reason; a second cancel is 409, an unknown job 404', async () => {
  const demo = await startDemo();
  try {
    const ident = await startJob(demo.base, 'seconds=600');
    // Running in its target (it has reported progress), so the cancel reaches its signal.
    await untilRunning(demo.base, ident, 25);
    const res = await cancelJob(demo.base, ident);
    assert.is(res.status, 202);
    assert.equal(await res.json(), { ident, name: 'report-600s' });
    const again = await cancelJob(demo.base, ident);
    assert.is(again.status, 409, 'cancelled already');
    assert.match((await again.json()).error, /nothing to cancel/);

    // A hang guard: the job would take 10 minutes; the cancel ends it within a page of work.
    const { done } = await watchJob(demo.base, ident, 25);
    assert.is(done.state, 'cancelled');
    assert.is(done.reason, 'cancelled from the page');
    assert.is(done.alive, false);
    assert.ok(done.progress > 0 && done.progress < 100, `stopped part way: ${done.progress}`);
    assert.is(done.report, null);
    assert.is(done.error, null);
    assert.match(demo.output().stdout, new RegExp(`report-600s \\(ident ${ident}\\) cancelled: cancelled from the page`));
    assert.not.match(demo.output().stderr, /Exception in thread/, 'a cancel is no uncaught error');

    assert.is((await cancelJob(demo.base, ident)).status, 409, 'ended');
    const unknown = await cancelJob(demo.base, 999999);
    assert.is(unknown.status, 404);
    assert.match((await unknown.json()).error, /no job 999999/);
    assert.is((await fetch(`${demo.base}/jobs/abc/cancel`, { method: 'POST' })).status, 404);
    assert.is((await fetch(`${demo.base}/jobs/${ident}/cancel`)).status, 405);

    // The isolate the cancelled job observed its signal on is reusable: the next job runs.
    const next = await startJob(demo.base, 'seconds=0.3');
    const { done: after } = await watchJob(demo.base, next, 25);
    assert.is(after.state, 'done');
    assert.is(after.progress, 100);
  } finally {
    demo.child.kill('SIGKILL');
  }
});

test('the job observes its signal: buildReport rejects with an AbortError, no page after it', async () => {
  const { buildReport } = await import('../examples/demo/report-job.mjs');
  const controller = new AbortController();
  const seen = [];
  const onProgress = (fraction) => {
    seen.push(fraction);
    if (seen.length === 2) controller.abort('stop');
  };
  const building = buildReport(600, onProgress, { signal: controller.signal });
  // A hang guard: the report would take 10 minutes.
  const error = await withTimeout(building.then(() => null, (thrown) => thrown), 25, 'the report to stop');
  assert.is(error?.name, 'AbortError');
  assert.is(error.cause, 'stop');
  assert.is(seen.length, 2);
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
    assert.match(html, /createElement\('progress'\)/, 'progress bars');
    assert.match(html, /\/cancel/);
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

test('SIGTERM waits for a running non-daemon job and cancels a daemon one, then exits 0', async () => {
  const demo = await startDemo();
  await startJob(demo.base, 'seconds=1.5');
  const daemon = await startJob(demo.base, 'seconds=600&daemon=1');
  await untilRunning(demo.base, daemon, 25);
  const signalled = performance.now();
  demo.child.kill('SIGTERM');
  const { code, signal, at } = await demo.exited;
  const { stdout } = demo.output();
  assert.is(signal, null);
  assert.is(code, 0, stdout);
  assert.match(stdout, /SIGTERM: no new connections; waiting up to 30s for 1 job\(s\): report-1\.5s\n/);
  assert.match(stdout, /cancelling daemon job\(s\) \(server shutting down\): report-600s-daemon\n/);
  assert.match(stdout, new RegExp(`report-600s-daemon \\(ident ${daemon}\\) cancelled: server shutting down`));
  assert.match(stdout, /report-1\.5s \(ident \d+\) finished/);
  assert.match(stdout, /all jobs done; bye/);
  assert.ok(stdout.indexOf('waiting') < stdout.indexOf('finished'), 'the job finished after the signal');
  assert.ok(at - signalled > 500, 'it waited for the job');
});

test('SIGTERM with a running daemon job only: it ends cancelled, exit 0; a second signal exits at once', async () => {
  const demo = await startDemo();
  const ident = await startJob(demo.base, 'seconds=60&daemon=1');
  await untilRunning(demo.base, ident, 25);
  demo.child.kill('SIGTERM');
  const first = await demo.exited;
  const { stdout, stderr } = demo.output();
  // (Waiting for the job to finish would take 60 s: the killer ends the child 30 s after its
  // start, with code null.)
  assert.is(first.code, 0, `${stdout}\n${stderr}`);
  assert.match(stdout, /waiting up to 30s for 0 job\(s\)\n/);
  assert.match(stdout, /cancelling daemon job\(s\) \(server shutting down\): report-60s-daemon\n/);
  assert.match(stdout, new RegExp(`report-60s-daemon \\(ident ${ident}\\) cancelled: server shutting down`));
  assert.not.match(stdout, /finished:/);
  assert.ok(stdout.indexOf('cancelled:') < stdout.indexOf('all jobs done; bye'), 'its end was awaited');
  assert.not.match(stderr, /Exception in thread/, 'a cancel is no uncaught error');

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

clusterTest('demo:cluster: jobs run on worker-1/worker-2 with progress and come back with their reports; Cancel cancels on the worker; SIGTERM cancels a daemon job and stops it all, exit 0', async () => {
  assert.ok(REDIS, 'redis-server is not installed (apt-get install redis-server): CI must run this test');
  // A hang guard: Redis, two workers and the server start in a few seconds, the jobs take ~2 s.
  const demo = await startDemo({}, { script: CLUSTER, killAfter: 120 });
  const pids = () => Object.fromEntries([...demo.output().stdout.matchAll(/demo:cluster: (\S+) pid (\d+)/g)]
    .map(([, name, pid]) => [name, Number(pid)]));
  try {
    const { stdout } = demo.output();
    const socket = /redis-server pid \d+ on (\S+)/.exec(stdout)?.[1];
    assert.ok(socket && existsSync(socket), `Redis's socket:\n${stdout}`);
    assert.equal(Object.keys(pids()).sort(), ['redis-server', 'server', 'worker-1', 'worker-2']);

    // Four jobs, one for each of the workers' four slots: two to finish, one to cancel, and a
    // daemon one for SIGTERM to cancel.
    const finishing = [await startJob(demo.base, 'seconds=2'), await startJob(demo.base, 'seconds=1.5')];
    const cancelled = await startJob(demo.base, 'seconds=600');
    const daemon = await startJob(demo.base, 'seconds=600&daemon=1');
    // Hang guards: generous (the workers may still be connecting), never speed checks.
    const watched = await Promise.all(finishing.map((ident) => watchJob(demo.base, ident, 60)));
    const after = await threads(demo.base);
    assert.is(after.remote, true);
    for (const [i, ident] of finishing.entries()) {
      const { done, seen } = watched[i];
      assertProgressed(seen, done);
      assert.ok(['worker-1', 'worker-2'].includes(done.worker), `run by a worker: ${JSON.stringify(done)}`);
      assert.is(done.error, null);
      assert.is(done.report.orders, done.name === 'report-2s' ? 40000 : 30000);
      assert.type(done.report.bestRegion, 'string');
      assert.match(demo.output().stdout, new RegExp(`${done.name} \\(ident ${ident}\\) finished on ${done.worker}: `));
    }

    // Running on a worker (its progress came through BullMQ): the cancel is carried out there,
    // and the server's thread ends when the job has.
    await untilRunning(demo.base, cancelled, 60);
    assert.is((await cancelJob(demo.base, cancelled)).status, 202);
    const { done } = await watchJob(demo.base, cancelled, 60);
    assert.is(done.state, 'cancelled');
    assert.is(done.reason, 'cancelled from the page');
    assert.ok(done.progress > 0 && done.progress < 100, `stopped part way: ${done.progress}`);
    assert.ok(['worker-1', 'worker-2'].includes(done.worker), `run by a worker: ${JSON.stringify(done)}`);
    assert.is((await cancelJob(demo.base, cancelled)).status, 409, 'ended');

    await untilRunning(demo.base, daemon, 60);
    demo.child.kill('SIGTERM');
    const { code, signal } = await demo.exited;
    const out = demo.output();
    assert.is(signal, null, out.stdout);
    assert.is(code, 0, `${out.stdout}\n${out.stderr}`);
    assert.match(out.stdout, new RegExp(`report-600s-daemon \\(ident ${daemon}\\) cancelled: server shutting down`));
    assert.match(out.stdout, /all jobs done; bye/);
    assert.match(out.stdout, /demo:cluster: all stopped; bye/);
    assert.not.match(out.stderr, /Exception in thread/, 'a cancel is no uncaught error');
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
