// Remote threads across processes, against a real redis-server: what a creator's exit does to
// its jobs (non-daemon held open, daemon not, killed after `enqueued`, process.exit() before
// it), a Redis that is down, and the worker's life: SIGKILL mid-job (rerun elsewhere, stalls
// seen by the creator, ERR_REMOTE_STALLED past the limit), the SIGTERM drain and its timeout,
// and the refusals to start.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { startRedis } from '../scripts/redis-server.mjs';
import { QUICK, ROOT, describe, importHelpers, processExists, runChild, runNode } from './helpers/child.mjs';
import {
  JOBS, freshQueue, inspectQueue, markers, remoteEnv, startWorker, stopWorkers, testRedis,
} from './helpers/remote.mjs';
import { until } from './helpers/wait.mjs';

const redis = await testRedis();
test.after(async () => { await redis?.stop(); });
const it = redis === null ? test.skip : test;

/** A creator script: starts one remote thread of `exportName` with `args`, then runs `then`. */
const creator = (exportName, args, { daemon = false, then = '' } = {}) => `
import { BackgroundThread, setExcepthook } from 'background-thread';
setExcepthook(({ excValue }) => { console.log('hook', excValue.code, excValue.message); });
const t = new BackgroundThread({ target: { module: ${JSON.stringify(JOBS)}, export: ${JSON.stringify(exportName)}, remote: true },
  args: ${JSON.stringify(args)}, daemon: ${daemon} });
t.start();
process.on('exit', () => { console.log('exit alive', t.isAlive(), JSON.stringify(t.result ?? null)); });
${then}
`;

/** Waits until a job has written its worker's pid to `file` (written, not just created). */
const began = (file) => until(() => existsSync(file) && readFileSync(file, 'utf8') !== '', 60, 'the job to begin');

const jobState = async (queue, jobId) => {
  const q = await inspectQueue(redis.socket, queue);
  try { return await q.getJobState(jobId); } finally { await q.close(); }
};

it('a non-daemon remote thread holds its creator open until the job has ended', async () => {
  const queue = freshQueue();
  const worker = await startWorker(redis.socket, queue);
  try {
    const r = await runChild(creator('slow', [500]), { ...QUICK, env: remoteEnv(redis.socket, queue) });
    assert.is(r.code, 0, describe(r));
    assert.match(r.stdout, /exit alive false 500/, describe(r));
  } finally {
    await stopWorkers(worker);
  }
});

it('a daemon remote thread does not hold its creator open, and its job runs to its end on the worker', async () => {
  const queue = freshQueue();
  const file = join(markers(), 'done');
  const worker = await startWorker(redis.socket, queue);
  try {
    const r = await runChild(creator('mark', [file, 300], { daemon: true, then: 'console.log("job", await t.remote.enqueued);' }),
      { ...QUICK, env: remoteEnv(redis.socket, queue) });
    assert.is(r.code, 0, describe(r));
    assert.match(r.stdout, /exit alive true null/, describe(r));
    await until(() => existsSync(file), 60, 'the daemon job to finish');
  } finally {
    await stopWorkers(worker);
  }
});

it('a creator killed once its job is enqueued: the job still runs', async () => {
  const queue = freshQueue();
  const file = join(markers(), 'done');
  const r = await runChild(creator('mark', [file, 0], { then: 'console.log("job", await t.remote.enqueued); process.kill(process.pid, "SIGKILL");' }),
    { ...QUICK, env: remoteEnv(redis.socket, queue) });
  assert.is(r.signal, 'SIGKILL', describe(r));
  const jobId = r.stdout.match(/job (\S+)/)?.[1];
  assert.ok(jobId, describe(r));
  assert.is(await jobState(queue, jobId), 'waiting', 'Redis holds the job, no worker yet');
  const worker = await startWorker(redis.socket, queue);   // a worker that comes later runs it
  try {
    await until(() => existsSync(file), 60, 'the orphaned job to run');
    await until(async () => await jobState(queue, jobId) === 'completed', 60, 'the job to complete');
  } finally {
    await stopWorkers(worker);
  }
});

it('process.exit() before Redis took the job is not silent: the job ids are written to stderr', async () => {
  const queue = freshQueue();
  const r = await runChild(creator('add', [1, 2], { then: 'process.exit(0);' }), { ...QUICK, env: remoteEnv(redis.socket, queue) });
  assert.is(r.code, 0, describe(r));
  assert.match(r.stderr, /exited before Redis took 1 remote job\(s\), which may be lost: [0-9a-f-]{36}/, describe(r));
});

it('Redis down: ERR_REMOTE_ENQUEUE reaches the excepthook after enqueueTimeout, the thread ends, the process exits', async () => {
  const source = creator('add', [1, 2], {
    then: 't.remote.enqueued.catch((e) => console.log("enqueued rejected", e.code));',
  }).replace('t.start();', 'configureRemote({ enqueueTimeout: 1 });\nt.start();').replace('import { BackgroundThread,', 'import { configureRemote, BackgroundThread,');
  const r = await runChild(source, { ...QUICK, env: remoteEnv(join(markers(), 'no-redis.sock'), freshQueue()) });
  assert.is(r.code, 0, describe(r));
  assert.match(r.stdout, /hook ERR_REMOTE_ENQUEUE cannot enqueue/, describe(r));
  assert.match(r.stdout, /enqueued rejected ERR_REMOTE_ENQUEUE/, describe(r));
  assert.match(r.stdout, /exit alive false null/, describe(r));
});

it('Redis gone while a daemon remote thread waits for its job: the creator still exits (no reconnect timer holds it)', async () => {
  const own = await startRedis();
  try {
    const r = await runChild(creator('add', [1, 2], {
      // The second's wait lets the connections see Redis go (and ioredis arm its reconnect timer).
      daemon: true, then: `await t.remote.enqueued; process.kill(${own.pid}, 'SIGKILL');
        await new Promise((resolve) => setTimeout(resolve, 1000)); console.log('redis killed');`,
    }), { ...QUICK, env: remoteEnv(own.socket, freshQueue()) });
    assert.is(r.code, 0, describe(r));
    assert.match(r.stdout, /redis killed\nexit alive true null/, describe(r));
  } finally {
    await own.stop().catch(() => {});
  }
});

/**
 * A creator that starts `n` remote threads of `tally` (one marker file each, a line per run)
 * while the Redis of pid `redisPid` is SIGSTOPped, its connections up (so every add is sent),
 * lets their enqueueTimeout (1 s) pass, SIGCONTs Redis and joins them all; prints how many were
 * alive while Redis was stopped and how each ended ('ran', or its exception's code).
 */
const stoppedRedisCreator = (redisPid, dir, n, then = '') => `
import { BackgroundThread, configureRemote, joinAll, setExcepthook } from 'background-thread';
${importHelpers('wait.mjs', ['sleep'])}
configureRemote({ enqueueTimeout: 1, pollInterval: 1 });
setExcepthook(() => {});
const target = (exportName) => ({ module: ${JSON.stringify(JOBS)}, export: exportName, remote: true });
const warm = new BackgroundThread({ target: target('add'), args: [1, 2], daemon: true });
warm.start();
await warm.remote.enqueued;
process.kill(${redisPid}, 'SIGSTOP');
const threads = Array.from({ length: ${n} }, (_, i) => new BackgroundThread({ target: target('tally'), args: [${JSON.stringify(dir)} + '/run-' + i] }));
threads.forEach((t) => t.start());
await sleep(2000);   // fires after the threads' 1 s enqueue timers (timers fire in order): they have timed out
console.log('alive while stopped', threads.filter((t) => t.isAlive()).length);
process.kill(${redisPid}, 'SIGCONT');
await joinAll();
console.log('outcomes', JSON.stringify(threads.map((t) => t.exception?.code ?? (t.result === 'counted' ? 'ran' : String(t.result)))));
console.log('ids', JSON.stringify(threads.map((t) => t.remote.jobId)));
${then}
`;

/**
 * Waits until no job of `queue` is waiting, delayed or running: a job sent late has run by then.
 */
const drained = async (socket, queue) => {
  const q = await inspectQueue(socket, queue);
  try {
    await until(async () => {
      const counts = await q.getJobCounts('wait', 'prioritized', 'delayed', 'active', 'paused');
      return Object.values(counts).every((c) => c === 0);
    }, 60, 'the queue to drain', 100);
  } finally {
    await q.close();
  }
};

const runsOf = (dir, i) => {
  const file = join(dir, `run-${i}`);
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0;
};

it('an enqueue timeout on a frozen Redis: a thread that ends with ERR_REMOTE_ENQUEUE never has its job run; the others ran once', async () => {
  const stopped = await startRedis();
  const queue = freshQueue();
  const dir = markers();
  const n = 40;
  let worker;
  try {
    worker = await startWorker(stopped.socket, queue);
    const r = await runChild(stoppedRedisCreator(stopped.pid, dir, n, 'process.exit(0);'),
      { timeout: 120000, env: remoteEnv(stopped.socket, queue) });
    assert.is(r.code, 0, describe(r));
    const outcomes = JSON.parse(r.stdout.match(/outcomes (.*)/)[1]);
    await drained(stopped.socket, queue);
    const wrong = outcomes.map((outcome, i) => ({ i, outcome, runs: runsOf(dir, i) }))
      .filter(({ outcome, runs }) => !(outcome === 'ERR_REMOTE_ENQUEUE' ? runs === 0 : outcome === 'ran' && runs === 1));
    assert.equal(wrong, [], `each thread's end matches its job's: ${JSON.stringify(outcomes)}`);
    // What Redis says of a withdrawn job: failed unrun (by the worker that took it), or a
    // tombstone.
    const ids = JSON.parse(r.stdout.match(/ids (.*)/)[1]);
    const q = await inspectQueue(stopped.socket, queue);
    try {
      for (const [i, outcome] of outcomes.entries()) {
        if (outcome !== 'ERR_REMOTE_ENQUEUE') continue;
        assert.match((await q.getJob(ids[i]))?.failedReason ?? '', /withdrawn by its thread/, `job ${ids[i]}`);
      }
    } finally {
      await q.close();
    }
    assert.match(r.stdout, new RegExp(`alive while stopped ${n}\\b`), `a sent job's thread waits for Redis to say what became of it\n${describe(r)}`);
  } finally {
    process.kill(stopped.pid, 'SIGCONT');
    if (worker) await stopWorkers(worker);
    await stopped.stop();
  }
});

it('after an enqueue timeout on a frozen Redis the creator exits once its threads have ended', async () => {
  const stopped = await startRedis();
  const queue = freshQueue();
  try {
    const r = await runChild(stoppedRedisCreator(stopped.pid, markers(), 5, 'console.log("joined");'),
      { ...QUICK, env: remoteEnv(stopped.socket, queue) });
    assert.is(r.code, 0, describe(r));
    assert.match(r.stdout, /joined/, describe(r));
  } finally {
    process.kill(stopped.pid, 'SIGCONT');
    await stopped.stop();
  }
});

it('remote threads not configured: start() throws ERR_REMOTE_NOT_CONFIGURED and the thread stays unstarted', async () => {
  const r = await runChild(`
import { BackgroundThread } from 'background-thread';
const t = new BackgroundThread({ target: { module: ${JSON.stringify(JOBS)}, export: 'add', remote: true } });
try { t.start(); } catch (e) { console.log(e.name, e.code, t.isAlive(), t.ident); }
`, { ...QUICK, env: { BACKGROUND_THREAD_REMOTE: '', BACKGROUND_THREAD_REMOTE_SECRET: '' } });
  assert.is(r.code, 0, describe(r));
  assert.match(r.stdout, /BackgroundThreadError ERR_REMOTE_NOT_CONFIGURED false null/, describe(r));
});

it('a worker killed mid-job: the job reruns on another worker, and the creator sees the stall', async () => {
  const queue = freshQueue();
  const file = join(markers(), 'began');
  const fast = ['--lock-duration', '1000', '--stalled-interval', '500'];
  const a = await startWorker(redis.socket, queue, { args: fast });
  let b;
  try {
    const r = runChild(creator('holdOnce', [file], { then: 'await t.join(); console.log("remote", JSON.stringify(t.remote));' }),
      { timeout: 120000, env: remoteEnv(redis.socket, queue) });
    // Awaited below; a failed assertion before then must not leave it unhandled.
    r.catch(() => {});
    await began(file);
    assert.is(Number(readFileSync(file, 'utf8')), a.child.pid, 'the only worker began it');
    a.child.kill('SIGKILL');
    await a.exited;
    b = await startWorker(redis.socket, queue, { args: fast });
    const done = await r;
    assert.is(done.code, 0, describe(done));
    assert.match(done.stdout, new RegExp(`exit alive false \\{"rerunBy":${b.child.pid}\\}`), describe(done));
    const info = JSON.parse(done.stdout.match(/remote (.*)/)[1]);
    assert.is(info.stalls, 1, describe(done));
    assert.is(info.attempts, 2, describe(done));
    assert.is(info.worker, b.name);
  } finally {
    await stopWorkers(a, ...(b ? [b] : []));
  }
});

it('past the stall limit the thread fails with ERR_REMOTE_STALLED', async () => {
  const queue = freshQueue();
  const file = join(markers(), 'began');
  const strict = ['--lock-duration', '1000', '--stalled-interval', '500', '--max-stalled', '0'];
  const a = await startWorker(redis.socket, queue, { args: strict });
  let b;
  try {
    const r = runChild(creator('holdOnce', [file]), { timeout: 120000, env: remoteEnv(redis.socket, queue) });
    // Awaited below; a failed assertion before then must not leave it unhandled.
    r.catch(() => {});
    await began(file);
    a.child.kill('SIGKILL');
    await a.exited;
    b = await startWorker(redis.socket, queue, { args: strict });
    const done = await r;
    assert.is(done.code, 0, describe(done));
    assert.match(done.stdout, /hook ERR_REMOTE_STALLED/, describe(done));
    assert.match(done.stdout, /exit alive false null/, describe(done));
  } finally {
    await stopWorkers(a, ...(b ? [b] : []));
  }
});

it('SIGTERM drains a worker: the running job ends, then exit 0; past --drain-timeout, exit 1; a second signal exits at once', async () => {
  const dir = markers();
  // A worker running a `hold` job (the creator, a daemon thread, is gone once Redis has the job).
  const holding = async (args) => {
    const queue = freshQueue();
    const began = join(dir, `began-${queue}`);
    const release = join(dir, `release-${queue}`);
    const w = await startWorker(redis.socket, queue, { args });
    const c = await runChild(creator('hold', [began, release], { daemon: true, then: 'console.log("job", await t.remote.enqueued);' }),
      { ...QUICK, env: remoteEnv(redis.socket, queue) });
    assert.is(c.code, 0, describe(c));
    await until(() => existsSync(began), 60, 'the job to begin');
    return { w, queue, release, jobId: c.stdout.match(/job (\S+)/)[1] };
  };
  const draining = (w) => until(() => w.stderr().includes('draining'), 60, 'the drain to begin');

  const drained = await holding([]);
  drained.w.child.kill('SIGTERM');
  await draining(drained.w);
  writeFileSync(drained.release, '');
  assert.equal(await drained.w.exited, { code: 0, signal: null }, drained.w.stderr());
  assert.is(await jobState(drained.queue, drained.jobId), 'completed', 'the drain let the job finish');

  const late = await holding(['--drain-timeout', '0.5']);
  late.w.child.kill('SIGTERM');
  assert.equal(await late.w.exited, { code: 1, signal: null }, late.w.stderr());
  assert.match(late.w.stderr(), /jobs still running after 0.5 s/);

  const twice = await holding([]);
  twice.w.child.kill('SIGTERM');
  await draining(twice.w);
  twice.w.child.kill('SIGTERM');
  // 128 + SIGTERM's 15.
  assert.equal(await twice.w.exited, { code: 143, signal: null }, twice.w.stderr());
});

/** BACKGROUND_THREAD_ADDON (a sanitizer build, say) for a process run elsewhere: absolute. */
const addonEnv = () => (process.env.BACKGROUND_THREAD_ADDON
  ? { BACKGROUND_THREAD_ADDON: resolve(ROOT, process.env.BACKGROUND_THREAD_ADDON) } : {});

/**
 * A consumer project that has this package installed, as `npm install` leaves it (linked, so no
 * copy): npx finds `background-thread-worker` in its node_modules/.bin and installs nothing.
 */
function consumerProject() {
  const dir = mkdtempSync(join(tmpdir(), 'bt-consumer-'));
  mkdirSync(join(dir, 'node_modules/.bin'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, dependencies: { 'background-thread': '*' } }));
  symlinkSync(ROOT, join(dir, 'node_modules/background-thread'), 'dir');
  symlinkSync('../background-thread/dist/remote/cli.js', join(dir, 'node_modules/.bin/background-thread-worker'));
  return dir;
}

it('SIGTERM to the pid of `npx background-thread-worker` reaches the worker: it drains its running job and exits', async () => {
  const queue = freshQueue();
  const dir = markers();
  const began = join(dir, 'began');
  const release = join(dir, 'release');
  // npx runs the bin through `sh -c`, and forwards a signal it gets to that shell only.
  const npx = spawn('npx', ['--offline', 'background-thread-worker', '--allow', 'jobs/**'], {
    cwd: consumerProject(), env: { ...process.env, NODE_OPTIONS: '', ...remoteEnv(redis.socket, queue), ...addonEnv() }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  npx.stderr.setEncoding('utf8').on('data', (chunk) => { stderr += chunk; });
  const npxExited = new Promise((resolve) => npx.on('exit', resolve));
  let workerPid;
  try {
    await until(() => /:(\d+): ready on queue/.test(stderr), 60, `the worker to be ready:\n${stderr}`);
    workerPid = Number(stderr.match(/:(\d+): ready on queue/)[1]);
    assert.is.not(workerPid, npx.pid, 'the worker is not the process npx is');
    const c = await runChild(creator('hold', [began, release], { daemon: true, then: 'console.log("job", await t.remote.enqueued);' }),
      { ...QUICK, env: remoteEnv(redis.socket, queue) });
    assert.is(c.code, 0, describe(c));
    await until(() => existsSync(began), 60, 'the job to begin');
    npx.kill('SIGTERM');
    await npxExited;
    await until(() => stderr.includes('draining'), 60, `the worker to drain:\n${stderr}`);
    writeFileSync(release, '');
    await until(() => !processExists(workerPid), 60, `the worker (pid ${workerPid}) to exit:\n${stderr}`);
    assert.is(await jobState(queue, c.stdout.match(/job (\S+)/)[1]), 'completed', 'the drain let the job finish');
  } finally {
    npx.kill('SIGKILL');
    if (workerPid !== undefined && processExists(workerPid)) process.kill(workerPid, 'SIGKILL');
  }
});

it('a worker refuses to start without an allow-list or a secret (exit 2, the reason on stderr)', async () => {
  const noAllow = await runNode(['dist/remote/cli.js'], { ...QUICK, env: remoteEnv(redis.socket, freshQueue()) });
  assert.is(noAllow.code, 2, describe(noAllow));
  assert.match(noAllow.stderr, /refusing to start without --allow/);
  const noSecret = await runNode(['dist/remote/cli.js', '--allow', 'jobs/**'],
    { ...QUICK, env: { ...remoteEnv(redis.socket, freshQueue()), BACKGROUND_THREAD_REMOTE_SECRET: '' } });
  assert.is(noSecret.code, 2, describe(noSecret));
  assert.match(noSecret.stderr, /ERR_REMOTE_NOT_CONFIGURED/);
});

test.run();
