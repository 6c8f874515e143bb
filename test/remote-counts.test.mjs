// remoteQueueCounts(): a remote threads' queue's jobs by state, against a real redis-server and a
// real worker process: jobs waiting (prioritized ones too), delayed, active, completed and failed
// as remote threads make them; the queue chosen by the same options as a thread's; bad options
// rejected as a remote start() refuses them; a server that refuses, or never answers, or sits
// behind a connection that is cut: ERR_REMOTE_UNAVAILABLE, never a hang.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer } from 'node:net';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BackgroundThread, BackgroundThreadError, configureRemote, getExcepthook, remoteQueueCounts,
  setExcepthook,
} from 'background-thread';
import {
  JOBS, JOBS_ROOT, SECRET, freshQueue, inspectQueue, markers, redisProxy, startWorker, stopWorkers,
  testRedis,
} from './helpers/remote.mjs';
import { until, withTimeout } from './helpers/wait.mjs';

const redis = await testRedis();
const queue = freshQueue();
const it = redis === null ? test.skip : test;
let worker;

const configure = (options = {}) => configureRemote({
  url: redis.socket, secret: SECRET, root: JOBS_ROOT, queue, pollInterval: 1, ...options,
});

test.before(() => { if (redis !== null) configure(); });

test.after(async () => {
  if (worker) await stopWorkers(worker);
  await redis?.stop();
});

const remote = (exportName, { args = [], daemon } = {}, remoteOptions = true) => {
  const thread = new BackgroundThread({
    target: { module: JOBS, export: exportName, remote: remoteOptions }, args, daemon,
  });
  thread.start();
  return thread;
};
const counts = (options) => withTimeout(remoteQueueCounts(options), 60, 'remoteQueueCounts');
const zero = { waiting: 0, active: 0, delayed: 0, completed: 0, failed: 0 };

/** `promise` rejects (within a hang guard) with an instance of `Type` whose code is `code`. */
async function rejects(promise, Type, code, what) {
  const error = await withTimeout(promise.then(() => null, (reason) => reason), 60, what);
  assert.ok(error instanceof Type, `${what}: ${error?.name} ${error?.message} is a ${Type.name}`);
  assert.is(error.code, code, `${what}: code`);
  return error;
}

it('counts follow the jobs of remote threads: waiting (prioritized too), delayed, active, completed, failed', async () => {
  assert.equal(await counts(), zero, 'a queue no job has reached');
  // No worker yet: the jobs wait.
  const waiting = [remote('add', { args: [1, 2] }), remote('add', { args: [3, 4] }),
    remote('add', { args: [5, 6] }, { priority: 1 })];
  // An hour's delay: it stays delayed until the test promotes it.
  const delayed = remote('slow', { args: [1] }, { delay: 3600 * 1000 });
  await Promise.all([...waiting, delayed].map((thread) => thread.remote.enqueued));
  assert.equal(await counts(), { ...zero, waiting: 3, delayed: 1 });
  assert.equal(await counts(true), await counts(), 'true: the configured queue, as a thread\'s');
  assert.equal(await counts({ queue: freshQueue(), priority: 3 }), zero,
    'a thread\'s own remote options choose the queue');

  worker = await startWorker(redis.socket, queue);
  for (const thread of waiting) assert.ok(await withTimeout(thread.join(), 60, 'join'));
  assert.equal(await counts(), { ...zero, delayed: 1, completed: 3 });

  const dir = markers();
  const [began, release] = [join(dir, 'began'), join(dir, 'release')];
  const held = remote('hold', { args: [began, release] });
  await until(() => existsSync(began), 60, 'the held job to begin');
  assert.equal(await counts(), { ...zero, active: 1, delayed: 1, completed: 3 }, 'running: active');
  writeFileSync(release, '');
  assert.ok(await withTimeout(held.join(), 60, 'join'));

  const previous = getExcepthook();
  setExcepthook(() => {});
  try {
    const failed = remote('boom', { args: ['counted as failed'] });
    assert.ok(await withTimeout(failed.join(), 60, 'join'));
    assert.ok(failed.exception instanceof Error);
  } finally {
    setExcepthook(previous);
  }
  assert.equal(await counts(), { ...zero, delayed: 1, completed: 4, failed: 1 });

  const inspect = await inspectQueue(redis.socket, queue);
  try {
    await (await inspect.getJob(delayed.remote.jobId)).promote();
  } finally {
    await inspect.close();
  }
  assert.ok(await withTimeout(delayed.join(), 60, 'join'));
  assert.equal(await counts(), { ...zero, completed: 5, failed: 1 }, 'promoted, then run');
});

it('bad options are rejected as a remote start() refuses them, with the same class and code', async () => {
  const cases = [
    ['a string', 'reports', TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['a null', null, TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['a queue that is not a string', { queue: 5 }, TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['an empty queue name', { queue: '' }, TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['a job id BullMQ refuses', { jobId: 'a:b' }, TypeError, 'ERR_INVALID_ARG_VALUE'],
    ['an unknown key', { queueName: 'x' }, TypeError, 'ERR_INVALID_ARG_VALUE'],
    ['attempts out of range', { attempts: 0 }, RangeError, 'ERR_OUT_OF_RANGE'],
  ];
  for (const [what, options, Type, code] of cases) {
    assert.throws(() => remote('add', {}, options), (error) => error instanceof Type && error.code === code,
      `${what}: a remote start() throws ${Type.name} ${code}`);
    const returned = remoteQueueCounts(options);
    assert.instance(returned, Promise, `${what}: a rejection, never a throw`);
    await rejects(returned, Type, code, what);
  }
  // false makes a module target local: it names no queue.
  await rejects(remoteQueueCounts(false), TypeError, 'ERR_INVALID_ARG_TYPE', 'false');
});

it('not configured: ERR_REMOTE_NOT_CONFIGURED, as a remote start()', async () => {
  const env = process.env;
  // Configured by the environment: nothing to test here.
  if (env.BACKGROUND_THREAD_REMOTE || env.BACKGROUND_THREAD_REMOTE_SECRET) return;
  configureRemote({});
  try {
    await rejects(remoteQueueCounts(), BackgroundThreadError, 'ERR_REMOTE_NOT_CONFIGURED', 'no URL');
    configureRemote({ url: redis.socket });
    await rejects(remoteQueueCounts(), BackgroundThreadError, 'ERR_REMOTE_NOT_CONFIGURED', 'no secret');
  } finally {
    configure();
  }
});

it('Redis down: a missing socket, a refused port, a cut connection: ERR_REMOTE_UNAVAILABLE at once, not after the enqueueTimeout', async () => {
  // An enqueueTimeout longer than the hang guard: a refusal must not wait for it.
  const refused = [join(markers(), 'no-redis.sock'), 'redis://127.0.0.1:1'];
  try {
    for (const url of refused) {
      configure({ url, enqueueTimeout: 600 });
      const error = await rejects(remoteQueueCounts(), BackgroundThreadError, 'ERR_REMOTE_UNAVAILABLE', url);
      assert.match(error.message, `cannot count the jobs of queue ${queue}: Redis at ${url} refused`);
      assert.ok(error.cause instanceof Error, `${url}: the connection's error is the cause`);
    }
    const proxy = await redisProxy(redis.socket);
    try {
      configure({ url: `redis://127.0.0.1:${proxy.port}`, enqueueTimeout: 600 });
      assert.equal(await counts(), await counts({ queue }), 'through the proxy');
      proxy.refuse();
      await rejects(remoteQueueCounts(), BackgroundThreadError, 'ERR_REMOTE_UNAVAILABLE', 'cut');
      proxy.accept();
      assert.type((await counts()).completed, 'number', 'back once Redis is reachable again');
    } finally {
      await proxy.close();
    }
  } finally {
    configure();
  }
});

it('a server that never answers: ERR_REMOTE_UNAVAILABLE after the enqueueTimeout, its connection closed, the password redacted', async () => {
  const sockets = new Set();
  const silent = createServer((socket) => {
    sockets.add(socket);
    socket.resume();  // reads (and drops) what comes, so that the client's end is seen
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const url = `redis://user:hunter2-secret@127.0.0.1:${silent.address().port}`;
  try {
    configure({ url, enqueueTimeout: 0.5 });
    const error = await rejects(remoteQueueCounts(), BackgroundThreadError, 'ERR_REMOTE_UNAVAILABLE', 'silent');
    assert.match(error.message, 'did not answer within 0.5 s');
    assert.match(error.message, `redis://user:***@127.0.0.1:${silent.address().port}`);
    assert.not.match(error.message, 'hunter2');
    await until(() => sockets.size === 0, 30, 'the connection to be closed');
  } finally {
    configure();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  }
});

test.run();
