// A fleet with a misconfigured worker, against a real redis-server and real worker processes: a
// refusal caused by the worker's own configuration (another secret, a root without the module)
// lets another worker take the job; a job that no live worker accepts fails for good once each
// has refused it; a refusal caused by the job itself (not in the allow-list) is final at once.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BackgroundThread, configureRemote, setExcepthook } from 'background-thread';
import {
  JOBS, JOBS_ROOT, SECRET, freshQueue, inspectQueue, markers, startWorker, stopWorkers, testRedis,
} from './helpers/remote.mjs';
import { withTimeout } from './helpers/wait.mjs';

const redis = await testRedis();
test.after(async () => { await redis?.stop(); });
setExcepthook(() => {});   // the threads' exceptions are asserted on the threads
const it = redis === null ? test.skip : test;

const OLD_SECRET = { BACKGROUND_THREAD_REMOTE_SECRET: 'an-old-secret-0123456789' };
const STALE_ROOT = ['--root', markers()];   // a folder that exists, without jobs/work.mjs

/** Starts `count` threads of `exportName` on `queue` and waits for them all to end. */
async function runThreads(queue, count, exportName = 'add') {
  configureRemote({ url: redis.socket, secret: SECRET, root: JOBS_ROOT, queue, pollInterval: 1 });
  const threads = Array.from({ length: count }, (_, i) => new BackgroundThread({
    target: { module: JOBS, export: exportName, remote: true }, args: [i, 1],
  }));
  threads.forEach((t) => t.start());
  await withTimeout(Promise.all(threads.map((t) => t.join())), 120, 'joins');
  return threads;
}

/** A healthy worker and a misconfigured one (`bad`: its worker options) on a fresh queue. */
async function fleet(bad) {
  const queue = freshQueue();
  const healthy = await startWorker(redis.socket, queue, { name: 'healthy' });
  const stale = await startWorker(redis.socket, queue, { name: 'stale', ...bad });
  return { queue, healthy, stale };
}

for (const [what, bad] of [['an old secret', { env: OLD_SECRET }], ['a stale root', { args: STALE_ROOT }]]) {
  it(`a worker with ${what} beside a healthy one: every job runs, on the healthy worker`, async () => {
    const { queue, healthy, stale } = await fleet(bad);
    try {
      const threads = await runThreads(queue, 20);
      const failed = threads.filter((t) => t.exception !== undefined).map((t) => t.exception.code);
      assert.equal(failed, [], 'no job failed');
      assert.equal(threads.map((t) => t.result.sum), threads.map((_, i) => i + 1));
      assert.ok(threads.every((t) => t.remote.worker === 'healthy'), 'the healthy worker ran them all');
      assert.match(stale.stderr(), /refused job/, 'the stale worker said why it refused');
    } finally {
      await stopWorkers(healthy, stale);
    }
  });
}

it('a job that no live worker accepts fails for good with the refusal\'s code once each has refused it', async () => {
  const queue = freshQueue();
  const a = await startWorker(redis.socket, queue, { name: 'old-a', env: OLD_SECRET });
  const b = await startWorker(redis.socket, queue, { name: 'old-b', args: STALE_ROOT });
  try {
    const [t] = await runThreads(queue, 1);
    assert.is(t.exception?.name, 'BackgroundThreadError');
    assert.ok(['ERR_REMOTE_BAD_SIGNATURE', 'ERR_REMOTE_MODULE_NOT_ALLOWED'].includes(t.exception.code), t.exception.message);
    assert.match(t.exception.message, /refused by every live worker/);
    assert.match(t.exception.message, /old-a/);
    assert.match(t.exception.message, /old-b/);
    const q = await inspectQueue(redis.socket, queue);
    try {
      assert.is(await q.getJobState(t.remote.jobId), 'failed');
    } finally {
      await q.close();
    }
  } finally {
    await stopWorkers(a, b);
  }
});

it('a refusal caused by the job itself (a module outside the allow-list) is final at once, healthy workers or not', async () => {
  const { queue, healthy, stale } = await fleet({ env: OLD_SECRET });
  try {
    configureRemote({ url: redis.socket, secret: SECRET, root: JOBS_ROOT, queue, pollInterval: 1 });
    const t = new BackgroundThread({ target: { module: `${JOBS_ROOT}/private/secret.mjs`, remote: true } });
    t.start();
    await withTimeout(t.join(), 60, 'join');
    assert.is(t.exception?.code, 'ERR_REMOTE_MODULE_NOT_ALLOWED');
    const q = await inspectQueue(redis.socket, queue);
    try {
      const job = await q.getJob(t.remote.jobId);
      assert.is(job.attemptsMade, 1, 'not retried');
    } finally {
      await q.close();
    }
  } finally {
    await stopWorkers(healthy, stale);
  }
});

test.run();
