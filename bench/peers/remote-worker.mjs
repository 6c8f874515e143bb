// A worker process of the remote job (peers/remote.mjs starts two, with fork()): the package's
// runWorker() for the remote threads, and beside it a plain BullMQ Worker on its own queue whose
// processor's first line returns the clock (the queue's own add -> processor, without the
// package). Settings come from the environment remote.mjs sets (BACKGROUND_THREAD_REMOTE, _SECRET,
// _ROOT, _QUEUE) and from the params { name, concurrency, plainQueue }. It tells its parent 'ready'
// over the IPC channel and stops on SIGTERM; it also exits when that channel closes, so that a
// parent that died (fail(), a timeout's SIGKILL) leaves no worker behind. A plain job named
// 'cancel' is cancelled by this worker itself (Worker.cancelJob) once it runs, its reason the clock
// at that call: BullMQ's own cancellation, from the worker to the creator.
import { UnrecoverableError, Worker } from 'bullmq';
import { importPackage, params } from './common.mjs';

const { runWorker } = await importPackage();
const { name, concurrency, plainQueue } = params;
const connection = { path: process.env.BACKGROUND_THREAD_REMOTE };

const remote = runWorker({ allow: ['module-work.mjs', 'control-work.mjs'], name, concurrency });
// process.hrtime.bigint() is CLOCK_MONOTONIC, one clock for every process of the machine: the
// creator subtracts its own stamp from it. As a string: BullMQ keeps return values as JSON.
const cancelled = (job, signal) => new Promise((resolve, reject) => {
  let stamp;
  signal.addEventListener('abort', () => reject(new UnrecoverableError(stamp)), { once: true });
  setImmediate(() => { stamp = String(process.hrtime.bigint()); plain.cancelJob(job.id); });
});
const plain = new Worker(plainQueue, async (job, token, signal) => (job.name === 'cancel'
  ? cancelled(job, signal)
  : String(process.hrtime.bigint())), { connection, concurrency, name: `${name}-plain` });
plain.on('error', (error) => process.stderr.write(`${name}-plain: ${error.message}\n`));

let stopping = false;
process.on('SIGTERM', async () => {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(1), 15_000).unref();  // a hang guard: the jobs have ended by now
  await Promise.all([remote.close(10), plain.close()]);
  process.exit(0);
});
process.on('disconnect', () => { if (!stopping) process.exit(1); });
await Promise.all([remote.ready, plain.waitUntilReady()]);
process.send('ready');
