// Remote threads from the creator's side, in this process, against a real redis-server and a
// real worker process: result, excepthook (class, code, remote stack, before join returns),
// joins and their timeouts, joinSync, joinAll, idempotent job ids, attempts, bad input, and the
// worker's refusals (allow-list, root, symlinks, seals, copies) reaching the creator, and what
// Redis holds of the arguments and results (sealed).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BackgroundThread, BackgroundThreadError, configureRemote, enumerate, getExcepthook, joinAll,
  setExcepthook,
} from 'background-thread';
import {
  JOBS, JOBS_ROOT, SECRET, forgeryPair, freshQueue, inspectQueue, markers, rawClient, redisProxy,
  startWorker, stopWorkers, testRedis,
} from './helpers/remote.mjs';
import { until, withTimeout } from './helpers/wait.mjs';

const redis = await testRedis();
const queue = freshQueue();
let worker;
const imported = join(markers(), 'imported');

test.before(async () => {
  if (redis === null) return;
  worker = await startWorker(redis.socket, queue, { env: { BT_TEST_IMPORTED: imported } });
  configureRemote({ url: redis.socket, secret: SECRET, root: JOBS_ROOT, queue, pollInterval: 1 });
});

test.after(async () => {
  if (worker) await stopWorkers(worker);
  await redis?.stop();
});

const remote = (exportName, options = {}, remoteOptions = true) => new BackgroundThread({
  target: { module: JOBS, export: exportName, remote: remoteOptions }, ...options,
});

/** Runs `body` with an excepthook that records what it sees, with the thread's state then. */
async function withHook(body) {
  const seen = [];
  const previous = getExcepthook();
  setExcepthook((args) => { seen.push({ ...args, aliveThen: args.thread?.isAlive() }); });
  try {
    await body(seen);
  } finally {
    setExcepthook(previous);
  }
  return seen;
}

const it = redis === null ? test.skip : test;

it('a remote thread runs its export on a worker: result, alive until the end, thread.remote', async () => {
  const t = remote('add', { args: [2, 3], kwargs: { k: 'v' } });
  assert.is(t.remote, null, 'no job before start()');
  const exitListeners = process.listenerCount('exit');
  t.start();
  assert.is(process.listenerCount('exit'), exitListeners, 'the package takes no \'exit\' listener slot');
  assert.ok(t.isAlive());
  assert.type(t.ident, 'number');
  assert.ok(enumerate().includes(t), 'listed while alive');
  assert.is(t.nativeId, null, 'no OS thread of this process');
  const { jobId } = t.remote;
  assert.is(await t.remote.enqueued, jobId, 'enqueued resolves to the job id');
  assert.ok(await withTimeout(t.join(), 60, 'join'));
  assert.not.ok(t.isAlive());
  assert.equal(t.result.sum, 5);
  assert.equal(t.result.kwargs, { k: 'v' }, 'kwargs travel as one trailing argument');
  assert.is.not(t.result.pid, process.pid, 'it ran in another process');
  assert.is(t.remote.queue, queue);
  assert.is(t.remote.attempts, 1);
  assert.is(t.remote.stalls, 0);
  assert.is(t.remote.worker, worker.name);
  assert.is(t.exception, undefined);
});

it('the job\'s exception reaches the excepthook before join returns: class, message, code, remote stack', async () => {
  const seen = await withHook(async (got) => {
    const t = remote('boom', { args: ['too big'] });
    t.start();
    assert.ok(await withTimeout(t.join(), 60, 'join'));
    assert.is(t.exception, got[0]?.excValue, 'thread.exception is what the hook saw');
  });
  assert.is(seen.length, 1);
  const [{ excType, excValue, excTraceback, aliveThen }] = seen;
  assert.is(excType, RangeError, 'a built-in class keeps its class');
  assert.instance(excValue, RangeError);
  assert.is(excValue.message, 'too big');
  assert.is(excValue.code, 'ERR_TOO_BIG');
  assert.match(excTraceback, /work\.mjs/, 'the stack is the worker\'s');
  assert.ok(aliveThen, 'the hook runs before the thread is seen to end');
});

it('a custom error class arrives as an Error with its name; a thrown string as that string', async () => {
  const seen = await withHook(async () => {
    const a = remote('invalid');
    const b = remote('throwString');
    a.start();
    b.start();
    await withTimeout(Promise.all([a.join(), b.join()]), 60, 'joins');
  });
  const invalid = seen.find((s) => s.excValue instanceof Error)?.excValue;
  assert.is(invalid?.name, 'ValidationError');
  assert.is(invalid?.message, 'not valid');
  assert.ok(seen.some((s) => s.excValue === 'a plain string'), 'the string itself, as a module target\'s');
});

it('join(timeout) is a local wait: false while the job runs, true once it ended; joinSync cannot wait', async () => {
  const t = remote('slow', { args: [1500] });
  t.start();
  assert.is(await t.join(0.05), false);
  assert.is(t.joinSync(0), false, 'joinSync(0) polls');
  try {
    t.joinSync(1);
    assert.unreachable('joinSync waited');
  } catch (error) {
    assert.is(error.code, 'ERR_JOIN_WOULD_DEADLOCK');
  }
  assert.ok(await withTimeout(t.join(), 60, 'join'));
  assert.is(t.result, 1500);
  assert.is(t.joinSync(1), true, 'joinSync of an ended thread');
});

it('joinAll waits for remote threads', async () => {
  const threads = [remote('slow', { args: [300] }), remote('add', { args: [1, 1] })];
  threads.forEach((t) => t.start());
  assert.ok(await withTimeout(joinAll(), 60, 'joinAll'));
  assert.ok(threads.every((t) => !t.isAlive()));
  assert.equal(threads.map((t) => typeof t.result === 'object' ? t.result.sum : t.result), [300, 2]);
});

it('a job id names one job: a second thread with the id of an ended one gets its result without a rerun', async () => {
  const jobId = `same-${Date.now()}`;
  const first = remote('add', {}, { jobId });
  first.start();
  await withTimeout(first.join(), 60, 'join');
  const second = remote('add', {}, { jobId });
  second.start();
  await withTimeout(second.join(), 60, 'join');
  assert.equal(second.result, first.result);
  assert.is(second.remote.attempts, 1, 'the job ran once');
});

it('attempts: a job that throws is retried, and the thread ends with the retry\'s result', async () => {
  const file = join(markers(), 'failed-once');
  const seen = await withHook(async () => {
    const t = remote('failOnce', { args: [file] }, { attempts: 2 });
    t.start();
    await withTimeout(t.join(), 60, 'join');
    assert.is(t.result, 'second time lucky');
    assert.is(t.remote.attempts, 2);
  });
  assert.is(seen.length, 0, 'a failure that was retried is not the thread\'s exception');
});

it('the worker refuses modules outside its allow-list or its root, before importing them', async () => {
  const seen = await withHook(async () => {
    const threads = ['private/secret.mjs', 'jobs/private-link.mjs', 'jobs/escape/sleep.mjs'].map((rel) =>
      new BackgroundThread({ target: { module: join(JOBS_ROOT, rel), remote: true } }));
    threads.forEach((t) => t.start());
    await withTimeout(Promise.all(threads.map((t) => t.join())), 60, 'joins');
  });
  assert.is(seen.length, 3);
  for (const { excValue } of seen) {
    assert.is(excValue.code, 'ERR_REMOTE_MODULE_NOT_ALLOWED', excValue.message);
    assert.is(excValue.name, 'BackgroundThreadError');
  }
  assert.not.ok(existsSync(imported), 'the refused module was never imported');
});

it('a job sealed with another secret is refused before its payload is read', async () => {
  const seen = await withHook(async () => {
    configureRemote({ url: redis.socket, secret: 'another-secret-0123456789', root: JOBS_ROOT, queue, pollInterval: 1 });
    try {
      const t = remote('add', { args: [1, 2] });
      t.start();
      await withTimeout(t.join(), 60, 'join');
    } finally {
      configureRemote({ url: redis.socket, secret: SECRET, root: JOBS_ROOT, queue,
        pollInterval: 1 });
    }
  });
  assert.is(seen.length, 1);
  assert.is(seen[0].excValue.code, 'ERR_REMOTE_BAD_SIGNATURE');
});

it('forged jobs added straight to the queue are refused and fail for good', async () => {
  const q = await inspectQueue(redis.socket, queue);
  try {
    const forged = [
      { v: 2, module: 'private/secret.mjs', export: 'default', name: 'x', fresh: false, payload: 'Zm9yZ2Vk' },
      { rm: '-rf /' },
    ];
    const jobs = await Promise.all(forged.map((data, i) => q.add(`forged-${i}`, data, { attempts: 3 })));
    await until(async () => (await Promise.all(jobs.map((j) => q.getJobState(j.id)))).every((s) => s === 'failed'), 60, 'forged jobs to fail');
    const failed = await Promise.all(jobs.map((j) => q.getJob(j.id)));
    assert.match(failed[0].stacktrace.at(-1), /\[ERR_REMOTE_BAD_SIGNATURE\]/);
    assert.match(failed[1].stacktrace.at(-1), /\[ERR_REMOTE_BAD_JOB\]/);
    assert.equal(failed.map((j) => j.attemptsMade), [1, 1], 'a refusal is not retried');
  } finally {
    await q.close();
  }
  assert.not.ok(existsSync(imported), 'the forged job\'s module was never imported');
});

it('a sealed job copied under another id, or into another queue, is refused and never runs again', async () => {
  const file = join(markers(), 'runs');
  const t = remote('tally', { args: [file] });
  t.start();
  await withTimeout(t.join(), 60, 'join');
  assert.is(t.result, 'counted');
  const otherQueue = freshQueue();
  const other = await startWorker(redis.socket, otherQueue);
  const q = await inspectQueue(redis.socket, queue);
  const q2 = await inspectQueue(redis.socket, otherQueue);
  try {
    const { data } = await q.getJob(t.remote.jobId);
    const copies = [await q.add('copy', data, { jobId: `copy-${randomUUID()}` }), await q2.add('copy', data, { jobId: t.remote.jobId })];
    const queues = [q, q2];
    await until(async () => (await Promise.all(copies.map((c, i) => queues[i].getJobState(c.id)))).every((s) => s === 'failed'), 60, 'the copies to fail');
    for (const [i, copy] of copies.entries()) {
      assert.match((await queues[i].getJob(copy.id)).stacktrace.at(-1), /\[ERR_REMOTE_BAD_SIGNATURE\]/);
    }
  } finally {
    await Promise.all([q.close(), q2.close()]);
    await stopWorkers(other);
  }
  assert.is(readFileSync(file, 'utf8'), `${worker.child.pid}\n`, 'the job ran once, its copies never');
});

it('a job\'s sealed result written into another job is refused there', async () => {
  const { y, q, client, returnvalue } = await forgeryPair(redis.socket, queue,
    () => remote('add', { args: [1, 2] }), () => remote('add', { args: [40, 2] }, { delay: 3600_000 }));
  try {
    const seen = await withHook(async () => {
      await client.hset(q.toKey(y.remote.jobId), 'returnvalue', JSON.stringify(returnvalue), 'finishedOn', String(Date.now()));
      await withTimeout(y.join(), 60, 'join');
    });
    assert.is(y.result, undefined, 'x\'s result is not y\'s');
    assert.is(y.exception?.code, 'ERR_REMOTE_BAD_SIGNATURE');
    assert.is(seen[0]?.excValue, y.exception, 'the excepthook got it');
  } finally {
    await (await q.getJob(y.remote.jobId))?.remove().catch(() => {});
    await q.close();
  }
});

it('a job\'s arguments and result cannot be read in Redis', async () => {
  const secretText = `top-secret-${randomUUID()}`;
  const t = remote('add', { args: [secretText, '!'] });
  t.start();
  await withTimeout(t.join(), 60, 'join');
  assert.is(t.result.sum, `${secretText}!`);
  const q = await inspectQueue(redis.socket, queue);
  try {
    const client = await rawClient(q);
    const raw = await client.hgetall(q.toKey(t.remote.jobId));
    // Everything the hash holds, as text, and each base64 string in it decoded.
    const strings = JSON.stringify(raw).match(/[A-Za-z0-9+/=_-]{16,}/g) ?? [];
    const texts = [JSON.stringify(raw), ...strings.map((b) => Buffer.from(b, 'base64').toString('latin1'))];
    assert.ok(texts.every((text) => !text.includes('top-secret')), 'the argument and the result are sealed');
  } finally {
    await q.close();
  }
});

/**
 * Runs `body({ proxy, q, file })` with this process's remote threads going through a redisProxy
 * (enqueueTimeout 1 s) whose connections are up (a thread ran through it), `q` a look at the
 * queue, `file` a tally marker; then back to the direct connection.
 */
async function throughProxy(body) {
  const proxy = await redisProxy(redis.socket);
  const q = await inspectQueue(redis.socket, queue);
  try {
    configureRemote({ url: `redis://127.0.0.1:${proxy.port}`, secret: SECRET, root: JOBS_ROOT, queue, enqueueTimeout: 1, pollInterval: 1 });
    const warm = remote('add', { args: [1, 2] });
    warm.start();
    await withTimeout(warm.join(), 60, 'join');
    await body({ proxy, q, file: join(markers(), 'runs') });
  } finally {
    configureRemote({ url: redis.socket, secret: SECRET, root: JOBS_ROOT, queue, pollInterval: 1 });
    await q.close();
    await proxy.close();
  }
}

/** Starts a thread of tally(file) and waits for its end, its exception to the hook. */
async function tallyThread(file) {
  const t = remote('tally', { args: [file] });
  const seen = await withHook(async () => {
    t.start();
    await withTimeout(t.join(), 60, 'join');
  });
  assert.is(t.exception?.code, 'ERR_REMOTE_ENQUEUE');
  assert.is(seen[0]?.excValue, t.exception, 'the excepthook got it');
  try {
    await t.remote.enqueued;
    assert.unreachable('enqueued resolved');
  } catch (error) {
    assert.is(error, t.exception, 'enqueued rejects with it');
  }
  return t;
}

it('an add that reaches Redis only after its thread withdrew the job (a slow network) is a no-op: the job never runs', async () => {
  await throughProxy(async ({ proxy, q, file }) => {
    proxy.hold();   // what the connections send now reaches Redis only at release()
    const t = await tallyThread(file);
    assert.match(t.exception.message, /the job is withdrawn: it never runs/);
    proxy.release();   // the add arrives now
    const client = await rawClient(q);
    const duplicated = async () => (await client.xrevrange(q.keys.events, '+', '-', 'COUNT', 100))
      .some(([, fields]) => fields.join(' ').includes(`event duplicated jobId ${t.remote.jobId}`));
    await until(duplicated, 60, 'the late add to reach Redis (BullMQ\'s duplicate no-op)', 20);
    const job = await q.getJob(t.remote.jobId);
    assert.match(job.failedReason, /withdrawn by its thread/, 'Redis holds the tombstone, which reads as a failed job');
    assert.is(await q.getJobState(t.remote.jobId), 'unknown', 'in no list: no worker can take it');
    // A later thread of the same job id follows the tombstone: it ends as the job did, and runs
    // nothing.
    const again = remote('tally', { args: [file] }, { jobId: t.remote.jobId });
    await withHook(async () => {
      again.start();
      await withTimeout(again.join(), 60, 'join');
    });
    assert.is(again.exception?.code, 'ERR_REMOTE_ENQUEUE');
    assert.instance(again.exception, BackgroundThreadError);
    assert.match(again.exception.message, /withdrawn by its thread/);
    assert.not.ok(existsSync(file), 'the job never ran');
  });
});

it('an add still in the offline queue (Redis unreachable) when the enqueue times out: the thread ends at once, nothing is sent later', async () => {
  await throughProxy(async ({ proxy, q, file }) => {
    proxy.refuse();
    await until(() => proxy.refused() > 0, 60, 'the creator to see its connection go (a reconnect refused)');
    const t = await tallyThread(file);
    assert.match(t.exception.message, /did not take job \S+ within 1 s \(/);
    assert.not.match(t.exception.message, /withdrawn/, 'never sent: nothing to withdraw');
    proxy.accept();
    // A thread after it, on a new connection through the proxy, runs: the old one sends nothing.
    const after = remote('add', { args: [2, 2] });
    after.start();
    await withTimeout(after.join(), 60, 'join');
    assert.is(after.result?.sum, 4);
    assert.is(await q.getJob(t.remote.jobId), undefined, 'the job never reached Redis');
    assert.not.ok(existsSync(file), 'the job never ran');
  });
});

it('bad remote options and modules outside the root are refused by start() or the constructor, nothing enqueued', () => {
  const cases = [
    [{ remote: 'yes' }, TypeError, 'ERR_INVALID_ARG_TYPE'],
    [{ remote: { attempts: 0 } }, RangeError, 'ERR_OUT_OF_RANGE'],
    [{ remote: { retries: 2 } }, TypeError, 'ERR_INVALID_ARG_VALUE'],
    [{ remote: { jobId: 'a:b' } }, TypeError, 'ERR_INVALID_ARG_VALUE'],
    [{ remote: { jobId: '42' } }, TypeError, 'ERR_INVALID_ARG_VALUE'],
    [{ remote: { backoff: { type: 'random', delay: 1 } } }, TypeError, 'ERR_INVALID_ARG_TYPE'],
    [{ remote: { priority: 1.5 } }, RangeError, 'ERR_OUT_OF_RANGE'],
  ];
  for (const [extra, Class, code] of cases) {
    try {
      new BackgroundThread({ target: { module: JOBS, export: 'add', ...extra } });
      assert.unreachable(JSON.stringify(extra));
    } catch (error) {
      assert.instance(error, Class, JSON.stringify(extra));
      assert.is(error.code, code, JSON.stringify(extra));
    }
  }
  assert.throws(() => new BackgroundThread({ target: { module: JOBS, export: 'add', remote: true }, transfer: [new ArrayBuffer(1)] }),
    (e) => e.code === 'ERR_INVALID_ARG_VALUE');
  const outside = new BackgroundThread({ target: { module: new URL('./fixtures/module-targets/sleep.mjs', import.meta.url), remote: true } });
  assert.throws(() => outside.start(), (e) => e.code === 'ERR_REMOTE_MODULE_NOT_ALLOWED');
  const uncloneable = remote('add', { args: [() => {}] });
  assert.throws(() => uncloneable.start(), (e) => e instanceof TypeError && e.code === 'ERR_INVALID_ARG_VALUE');
  for (const t of [outside, uncloneable]) {
    assert.is(t.ident, null, 'left unstarted');
    assert.not.ok(t.isAlive());
  }
  assert.throws(() => configureRemote({ secret: 'short' }), (e) => e instanceof RangeError);
  assert.throws(() => configureRemote({ host: 'x' }), (e) => e.code === 'ERR_INVALID_ARG_VALUE');
});

test.run();
