// Remote threads' cancellation and progress, on a real redis-server and a real worker process: a
// running job is cancelled by its worker (the export's signal aborts) and fails for good (not
// retried); a waiting job is removed; progress arrives sealed, in order, its last value before
// join(); a value that is not sealed for the job is ignored.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BackgroundThread, ThreadCancelledError } from 'background-thread';
import { JOBS, freshQueue, inspectQueue, markers, remoteFixture } from './helpers/remote.mjs';
import { until, withTimeout } from './helpers/wait.mjs';

const { redis, queue, it } = await remoteFixture(test);
const dir = markers();
const remote = (exportName, options = {}, remoteOptions = true) => new BackgroundThread({
  target: { module: JOBS, export: exportName, remote: remoteOptions }, ...options,
});

it('a running job: its worker aborts the export\'s signal, the job fails for good, the thread ends cancelled', async () => {
  const file = join(dir, 'running');
  const t = remote('waitsForCancel', { args: [file] }, { attempts: 3 });
  const seen = [];
  t.on('progress', (value) => { seen.push(value); });
  t.start();
  await until(() => existsSync(file), 60, 'the job to begin');
  const inspect = await inspectQueue(redis.socket, queue);
  try {
    // A progress value not sealed for the job (anyone on the Redis can write one): ignored.
    await (await inspect.getJob(t.remote.jobId)).updateProgress(42);
    assert.ok(t.cancel('no longer wanted'));
    await withTimeout(t.join(), 60, 'join');
    assert.instance(t.exception, ThreadCancelledError);
    assert.is(t.exception.cause, 'no longer wanted');
    assert.is(t.result, undefined);
    await until(() => existsSync(`${file}.aborted`), 60, 'the export to see its signal');
    assert.is(readFileSync(`${file}.aborted`, 'utf8'), 'ERR_THREAD_CANCELLED');
    const job = await inspect.getJob(t.remote.jobId);
    assert.is(await job.getState(), 'failed');
    assert.is(job.attemptsStarted, 1, 'not retried, though it had 3 attempts');
    assert.equal(seen, [], 'the forged value was not delivered');
  } finally {
    await inspect.close();
  }
});

it('cancelled after its job completed, before the creator learned it: the job stays completed in Redis', async () => {
  const t = remote('add', { args: [1, 2] });
  t.start();
  const jobId = await withTimeout(t.remote.enqueued, 60, 'enqueued');
  // This loop is held (synchronously) until the worker has completed the job in Redis, so that
  // the creator has not read its end yet when cancel() comes.
  const key = `bull:${queue}:${jobId}`;
  const finished = () => execFileSync('redis-cli', ['-s', redis.socket, 'HEXISTS', key, 'finishedOn'], { encoding: 'utf8' }).trim() === '1';
  const end = performance.now() + 60_000;   // a hang guard
  while (!finished()) if (performance.now() > end) throw new Error('the job did not complete');
  assert.ok(t.isAlive(), 'the creator has not learned the end yet');
  assert.ok(t.cancel('too late'), 'cancel() of a live thread');
  await withTimeout(t.join(), 60, 'join');
  // The caller's cancel decides the thread's outcome (as for every kind); Redis keeps the truth.
  assert.instance(t.exception, ThreadCancelledError);
  const inspect = await inspectQueue(redis.socket, queue);
  try {
    const job = await inspect.getJob(jobId);
    assert.ok(job, 'not removed');
    assert.is(await job.getState(), 'completed');
  } finally {
    await inspect.close();
  }
});

it('a waiting job (no worker on its queue) is removed: the thread ends cancelled, the job never runs', async () => {
  const idleQueue = freshQueue();
  const file = join(dir, 'waiting');
  const t = remote('waitsForCancel', { args: [file] }, { queue: idleQueue });
  t.start();
  const jobId = await withTimeout(t.remote.enqueued, 60, 'enqueued');
  assert.ok(t.cancel());
  await withTimeout(t.join(), 60, 'join');
  assert.instance(t.exception, ThreadCancelledError);
  const inspect = await inspectQueue(redis.socket, idleQueue);
  try {
    assert.is(await inspect.getJob(jobId), undefined, 'removed from Redis');
  } finally {
    await inspect.close();
  }
  assert.not.ok(existsSync(file));
});

it('cancelled before Redis has its job, or after the end: the job is removed once added; false after', async () => {
  const idleQueue = freshQueue();
  const t = remote('add', { args: [1, 2] }, { queue: idleQueue });
  t.start();
  assert.ok(t.cancel('at once'));  // the add is in flight
  await withTimeout(t.join(), 60, 'join');
  assert.instance(t.exception, ThreadCancelledError);
  assert.is(t.cancel(), false);
  const inspect = await inspectQueue(redis.socket, idleQueue);
  try {
    assert.is(await inspect.getJob(t.remote.jobId), undefined);
  } finally {
    await inspect.close();
  }
});

it('progress: sealed in the job, delivered in order, the last value before join()', async () => {
  const t = remote('reports', { args: [50] });
  const seen = [];
  t.on('progress', (value) => { seen.push(value); });
  t.start();
  await withTimeout(t.join(), 60, 'join');
  assert.is(t.result, 50);
  assert.equal(t.progress, { done: 50 });
  assert.equal(seen[seen.length - 1], { done: 50 }, 'the last value, before join()');
  const numbers = seen.slice(0, -1);
  assert.ok(numbers.every((value, i) => i === 0 || value > numbers[i - 1]), `in order: ${numbers}`);
  const inspect = await inspectQueue(redis.socket, queue);
  try {
    const job = await inspect.getJob(t.remote.jobId);
    assert.type(job.progress.progress, 'string', 'BullMQ keeps the sealed value');
    assert.not.ok(JSON.stringify(job.progress).includes('done'), 'not in clear');
  } finally {
    await inspect.close();
  }
});

test.run();
