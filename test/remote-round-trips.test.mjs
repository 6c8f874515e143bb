// What a remote thread asks of Redis, from its creator's side: its end is learned from BullMQ's
// `completed` event alone (the return value carries how the job ran), with no read of the job's
// hash after the add nor after the end; and a `completed` event that does not open (forged) ends
// nothing: the job is read instead. Watched with MONITOR on a real redis-server.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BackgroundThread, configureRemote } from 'background-thread';
import {
  JOBS, JOBS_ROOT, SECRET, forgeryPair, freshQueue, inspectQueue, rawClient, startWorker,
  stopWorkers, testRedis,
} from './helpers/remote.mjs';
import { withTimeout } from './helpers/wait.mjs';

const redis = await testRedis();
const queue = freshQueue();
let worker;

test.before(async () => {
  if (redis === null) return;
  worker = await startWorker(redis.socket, queue);
  // No poll within a test: every read of a job would be the events' doing.
  configureRemote({
    url: redis.socket, secret: SECRET, root: JOBS_ROOT, queue, pollInterval: 3600,
  });
});

test.after(async () => {
  if (worker) await stopWorkers(worker);
  await redis?.stop();
});

const remote = (args, remoteOptions = true) => new BackgroundThread({
  target: { module: JOBS, export: 'add', remote: remoteOptions }, args,
});

const it = redis === null ? test.skip : test;

it('a completed remote thread is learned from its event: no read of its job after the add or the end', async () => {
  const warm = remote([1, 1]);  // the queue's connections, opened once
  warm.start();
  await withTimeout(warm.join(), 60, 'join');
  const q = await inspectQueue(redis.socket, queue);
  const monitor = await (await rawClient(q)).monitor();  // a connection of its own
  try {
    const commands = [];
    monitor.on('monitor', (_time, args) => { commands.push(args); });
    const t = remote([2, 3]);
    t.start();
    assert.ok(await withTimeout(t.join(), 60, 'join'));
    assert.is(t.result.sum, 5);
    assert.equal([t.remote.worker, t.remote.attempts, t.remote.stalls], [worker.name, 1, 0], 'how it ran, from its result');
    await new Promise((resolve) => { setTimeout(resolve, 200); });  // what was sent has been seen
    const key = q.toKey(t.remote.jobId);
    // The creator's reads are EVALs naming the job's hash (the worker's commands are EVALSHAs).
    const reads = commands.filter((args) => args[0].toLowerCase() === 'eval' && args.includes(key));
    assert.equal(reads, [], 'no read of the job');
  } finally {
    monitor.disconnect();
    await q.close();
  }
});

it('a forged completed event (another job\'s result) ends nothing: the job is read, and runs', async () => {
  const { y, q, client, returnvalue } = await forgeryPair(redis.socket, queue,
    () => remote([1, 2]), () => remote([40, 2], { delay: 3600_000 }));
  try {
    await client.xadd(q.keys.events, '*', 'event', 'completed', 'jobId', y.remote.jobId, 'returnvalue', JSON.stringify(returnvalue));
    assert.not.ok(await y.join(1), 'x\'s result does not end y');
    await (await q.getJob(y.remote.jobId)).promote();
    assert.ok(await withTimeout(y.join(), 60, 'join'));
    assert.is(y.exception, undefined);
    assert.is(y.result.sum, 42);
  } finally {
    await q.close();
  }
});

test.run();
