// The remote job (config.mjs), measured in the background-thread peer's child: remote threads
// (module targets with remote: true, BullMQ jobs on `workers` worker processes, each
// peers/remote-worker.mjs) against this process's own module targets (warm isolates, the default
// policy), and BullMQ alone (Queue.add() -> a plain Worker's processor in the same worker
// processes, same Redis), all in one child:
//   remote(pkg, params) -> { remote, remoteLive, local, bullmq: { samples, joined, enqueued? },
//                           remoteJobs, localJobs,
//                           bullmqJobs: { n, inFlight, seconds, perSecond } }
//   samples: just before start() / add() -> the export's / processor's first line (the clock it
//   returns: CLOCK_MONOTONIC, one clock for the machine's processes); joined: -> join() /
//   waitUntilFinished(); enqueued: -> thread.remote.enqueued (Redis took the job). remote: one
//   at a time with no other remote thread alive (the package keeps a queue's connections open
//   for 5 s after its last thread ends); remoteLive: the same beside a live
//   remote thread (a delayed job, promoted at the end), whose connections they share. *Jobs:
//   start+join (add + waitUntilFinished) of the empty export, `inFlight` lanes (common.mjs lanes).
//   remoteCancel: cancel() -> join() of a remote thread running on a worker (it has reported
//   'began' and waits for its signal: control-work.mjs), the request crossing to its worker;
//   bullmqCancel: BullMQ alone, the worker's own Worker.cancelJob() -> waitUntilFinished()
//   rejecting on the creator (BullMQ has no cancel from another process: this is its floor).
// Everything is measured once at the warm-up sizes first (the workers' isolates, the pool of this
// process, the JIT), then at the real ones. This child starts its own redis-server
// (scripts/redis-server.mjs) and worker processes, and stops them before it answers.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue, QueueEvents } from 'bullmq';
import { startRedis } from '../../scripts/redis-server.mjs';
import { fail, lanes, nowUs, round1 } from './common.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));  // the remote root: jobs name module-work.mjs
const WORK = new URL('./module-work.mjs', import.meta.url);
const CONTROL = new URL('./control-work.mjs', import.meta.url);
const WORKER = fileURLToPath(new URL('./remote-worker.mjs', import.meta.url));
const REMOTE_QUEUE = 'bench-remote';
const PLAIN_QUEUE = 'bench-plain';
const HOUR = 3600_000;

/** Starts a worker process; resolves with it once it takes jobs. */
function startWorker(env, params) {
  const child = fork(WORKER, [JSON.stringify(params)], { env, execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const ready = new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`worker ${params.name} exited (${code}) before it was ready`)));
  });
  return { child, ready };
}

const stopWorker = (child) => new Promise((resolve) => {
  if (child.exitCode !== null || child.signalCode !== null) resolve();
  else { child.once('exit', resolve); child.kill('SIGTERM'); }
});

const us = (stamp) => Number(BigInt(stamp)) / 1000;

export async function remote(pkg, { n, warmup, jobs, warmupJobs, inFlight, workers, concurrency }) {
  const { BackgroundThread, configureRemote } = pkg;
  if (typeof configureRemote !== 'function') return { na: 'no remote threads' };
  let redis;
  try {
    redis = await startRedis();
  } catch (error) {
    if (error.code === 'ERR_REDIS_MISSING') return { na: 'no redis-server' };
    throw error;
  }
  const children = [];
  // fail() exits at once: the workers and Redis must not outlive this child.
  const kill = () => { for (const c of children) c.kill('SIGKILL'); process.kill(redis.pid, 'SIGKILL'); };
  process.on('exit', kill);
  const secret = randomBytes(16).toString('hex');
  const env = {
    ...process.env, BACKGROUND_THREAD_REMOTE: redis.socket, BACKGROUND_THREAD_REMOTE_SECRET: secret,
    BACKGROUND_THREAD_REMOTE_ROOT: HERE, BACKGROUND_THREAD_REMOTE_QUEUE: REMOTE_QUEUE,
  };
  const connection = { path: redis.socket };
  const plain = new Queue(PLAIN_QUEUE, { connection });
  plain.setMaxListeners(0);  // waitUntilFinished() listens to the queue once per job in flight
  const events = new QueueEvents(PLAIN_QUEUE, { connection });
  const remoteQueue = new Queue(REMOTE_QUEUE, { connection });  // to promote the live row's holder
  try {
    const started = Array.from({ length: workers }, (_, i) => startWorker(env, { name: `w${i + 1}`, concurrency, plainQueue: PLAIN_QUEUE }));
    children.push(...started.map((s) => s.child));
    await Promise.all([...started.map((s) => s.ready), events.waitUntilReady()]);
    configureRemote({ url: redis.socket, secret, root: HERE, queue: REMOTE_QUEUE });

    const thread = (exportName, remote) =>
      new BackgroundThread({ target: { module: WORK, export: exportName, remote } });
    const joined = async (t) => {
      if (!(await t.join(60))) fail('join timed out');
      if (t.exception !== undefined) fail(`the thread threw: ${t.exception?.message ?? t.exception}`);
      return t.result;
    };
    // The package's job options (src/remote/body.ts), so that Redis keeps the same per job.
    const add = () => plain.add('now', {}, { removeOnComplete: { age: 24 * 3600 }, removeOnFail: { age: 7 * 24 * 3600 } });

    /** `count` runs one at a time; run(t0) resolves with { stamp, enqueued? } once it has ended. */
    const oneByOne = async (count, run) => {
      const out = { samples: [], joined: [] };
      for (let i = 0; i < count; i++) {
        const t0 = nowUs();
        const { stamp, enqueued } = await run(t0);
        out.joined.push(nowUs() - t0);
        out.samples.push(us(stamp) - t0);
        if (enqueued !== undefined) (out.enqueued ??= []).push(enqueued);
      }
      return out;
    };
    const threadRun = (remote) => async (t0) => {
      const t = thread('now', remote);
      t.start();
      const enqueued = t.remote?.enqueued.then(() => nowUs() - t0);
      return { stamp: await joined(t), enqueued: await enqueued };
    };
    const bullmqRun = async () =>
      ({ stamp: await (await add()).waitUntilFinished(events, 60_000) });
    /**
     * f() beside a live remote thread: a job delayed by an hour, promoted (run now) once f is done.
     */
    const besideLive = async (f) => {
      const holder = thread('empty', { delay: HOUR });
      holder.start();
      await holder.remote.enqueued;
      const result = await f();
      await (await remoteQueue.getJob(holder.remote.jobId)).promote();
      await joined(holder);
      return result;
    };
    const threadJob = (remote) => async () => {
      const t = thread('empty', remote);
      t.start();
      await joined(t);
    };
    const bullmqJob = async () => { await (await add()).waitUntilFinished(events, 60_000); };
    /** cancel() -> join() resolved, once the job has begun on its worker (none without cancel). */
    const remoteCancel = async (count) => {
      const out = [];
      for (let i = 0; i < count; i++) {
        const t = new BackgroundThread({ target: { module: CONTROL, export: 'waitForAbort', remote: true } });
        if (typeof t.cancel !== 'function') return undefined;
        const began = new Promise((resolve) => { t.once('progress', resolve); });
        t.start();
        await began;
        const t0 = nowUs();
        t.cancel();
        if (!(await t.join(60))) fail('join after cancel timed out');
        out.push(round1(nowUs() - t0));
        if (t.exception?.code !== 'ERR_THREAD_CANCELLED') fail(`not cancelled: ${t.exception}`);
      }
      return out;
    };
    /** The worker's cancelJob() (its clock: the reason) -> waitUntilFinished() rejects. */
    const bullmqCancel = async (count) => {
      const out = [];
      for (let i = 0; i < count; i++) {
        const job = await plain.add('cancel', {}, { removeOnComplete: { age: 24 * 3600 }, removeOnFail: { age: 7 * 24 * 3600 } });
        const reason = await job.waitUntilFinished(events, 60_000).then(() => fail('not cancelled'), (error) => error.message);
        out.push(round1(nowUs() - us(reason)));
      }
      return out;
    };

    const measure = async (count, jobCount) => ({
      remote: await oneByOne(count, threadRun(true)),
      remoteLive: await besideLive(() => oneByOne(count, threadRun(true))),
      local: await oneByOne(count, threadRun(false)),
      bullmq: await oneByOne(count, bullmqRun),
      remoteJobs: await lanes(jobCount, inFlight, threadJob(true)),
      localJobs: await lanes(jobCount, inFlight, threadJob(false)),
      bullmqJobs: await lanes(jobCount, inFlight, bullmqJob),
      remoteCancel: await remoteCancel(count),
      bullmqCancel: await bullmqCancel(count),
    });
    await measure(warmup, warmupJobs);
    const result = await measure(n, jobs);
    for (const key of ['remote', 'remoteLive', 'local', 'bullmq']) {
      for (const [k, v] of Object.entries(result[key])) result[key][k] = v.map(round1);
    }
    return { workers, concurrency, ...result };
  } finally {
    await Promise.all([plain.close(), events.close(), remoteQueue.close()]);
    await Promise.all(children.map(stopWorker));
    await redis.stop();
    process.off('exit', kill);
  }
}
