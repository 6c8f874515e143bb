// Remote threads, the worker's half: a BullMQ Worker whose processor runs each job as a module
// target's thread of this process, in the package's own isolates, so that a CPU-bound job never
// blocks this loop, where BullMQ renews the job's lock (a plain BullMQ processor that computes
// for longer than the lock is declared stalled and run twice). A job is untrusted input: its
// seal is opened before its arguments are deserialised, and its module is resolved inside
// the root and against the allow-list (src/remote-protocol.ts) before anything is imported.
import * as fs from 'node:fs';
import * as os from 'node:os';
import type { Job, Worker } from 'bullmq';
import { BackgroundThread } from './background-thread';
import { argRangeError, argTypeError } from './errors';
import { settings } from './remote-options';
import type { JobResult } from './remote-protocol';
import { received } from './validate';

/** `runWorker()`'s options; `url`, `queue`, `root` and `secret` fall back as in `configureRemote()`. */
export interface RemoteWorkerOptions {
  /** Required: glob patterns (`*` within a path segment, `**` across) of the module paths, relative to the root, that jobs may run. */
  allow: string[];
  /** Redis, as `configureRemote()`'s `url`; default `BACKGROUND_THREAD_REMOTE`. */
  url?: string;
  /** The queue to take jobs from; default `BACKGROUND_THREAD_REMOTE_QUEUE` or `background-thread`. */
  queue?: string;
  /** The folder job module paths are resolved in (never out of); default `BACKGROUND_THREAD_REMOTE_ROOT` or `process.cwd()`. */
  root?: string;
  /** The secret jobs are sealed with; default `BACKGROUND_THREAD_REMOTE_SECRET`. */
  secret?: string;
  /** Jobs run at once; default `os.availableParallelism()`. */
  concurrency?: number;
  /** The worker's name in BullMQ (a job's `thread.remote.worker`); default `host:pid`. */
  name?: string;
  /** Milliseconds a job's lock lasts unless renewed (BullMQ's `lockDuration`); default 30000. A worker that dies holding a job frees it after this. */
  lockDuration?: number;
  /** Milliseconds between checks for stalled jobs (BullMQ's `stalledInterval`); default 30000. */
  stalledInterval?: number;
  /** How many times a job may stall before it fails with `ERR_REMOTE_STALLED` (BullMQ's `maxStalledCount`); default 1. */
  maxStalledCount?: number;
}

/** A running worker. */
export interface RemoteWorker {
  /** Its name in BullMQ. */
  readonly name: string;
  /** The queue it takes jobs from. */
  readonly queue: string;
  /** Resolves once the worker is connected and takes jobs. */
  readonly ready: Promise<void>;
  /**
   * Stops taking jobs and waits for the running ones to end (the drain).
   *
   * @param timeout - Seconds to wait; default forever.
   * @returns true when they ended within `timeout`, false otherwise (they go on running).
   */
  close(timeout?: number): Promise<boolean>;
}

const WORKER_KEYS = new Set(['allow', 'url', 'queue', 'root', 'secret', 'concurrency', 'name', 'lockDuration', 'stalledInterval', 'maxStalledCount']);

function positive(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw argTypeError(`The "${name}" option must be a number. ${received(value)}`);
  if (!Number.isInteger(value) || value < 1 || value > 2 ** 31 - 1) throw argRangeError(`The "${name}" option must be a positive integer. Received ${value}`);
  return value;
}

/**
 * Runs a worker of remote threads in this process (the `background-thread-worker` command is
 * this and a drain on SIGTERM/SIGINT): each job's export runs as a module target's thread here.
 *
 * @param options - The allow-list (required) and the connection; see {@link RemoteWorkerOptions}.
 * @returns The running worker.
 * @throws {TypeError} `ERR_REMOTE_NO_ALLOW_LIST` without an allow-list; `ERR_INVALID_ARG_TYPE` or
 *   `ERR_INVALID_ARG_VALUE` for a bad option.
 * @throws {BackgroundThreadError} `ERR_REMOTE_NOT_CONFIGURED` without a URL or a secret;
 *   `ERR_REMOTE_BULLMQ_MISSING` when BullMQ is not installed.
 */
export function runWorker(options: RemoteWorkerOptions): RemoteWorker {
  // Loaded now, not with the package: every isolate loads the package.
  const { connectionOptions, loadBullmq } = require('./remote') as typeof import('./remote');
  const { allowList, encodeError, openJob, resolveAllowed, sealResult } = require('./remote-protocol') as typeof import('./remote-protocol');
  const base = settings(options, 'runWorker', WORKER_KEYS);  // checks the object and its keys
  const allowed = allowList(options.allow);
  let root: string;
  try {
    root = fs.realpathSync(base.root);
  } catch (error) {
    throw Object.assign(argTypeError(`The worker's root ${base.root} is not a folder that exists`, 'ERR_INVALID_ARG_VALUE'), { cause: error });
  }
  const concurrency = positive(options.concurrency, 'concurrency', os.availableParallelism?.() ?? os.cpus().length);
  const lockDuration = positive(options.lockDuration, 'lockDuration', 30000);
  const stalledInterval = positive(options.stalledInterval, 'stalledInterval', 30000);
  const maxStalledCount = options.maxStalledCount === 0 ? 0 : positive(options.maxStalledCount, 'maxStalledCount', 1);
  const name = options.name === undefined ? `${os.hostname()}:${process.pid}` : String(options.name);
  const { Worker: BullWorker, UnrecoverableError } = loadBullmq();

  const processor = async (job: Job): Promise<JobResult> => {
    const place = { prefix: base.prefix, queue: base.queue, jobId: job.id! };
    let url: string;
    let opened: ReturnType<typeof openJob>;
    try {
      opened = openJob(base.secret, place, job.data);
      url = resolveAllowed(root, allowed, opened.module);
    } catch (error) {
      throw asBullError(error, UnrecoverableError);  // a refusal: no attempt would do better
    }
    const thread = new BackgroundThread({
      target: { module: url, export: opened.export }, args: opened.args, kwargs: opened.kwargs,
      name: opened.name, daemon: false, isolate: opened.fresh ? 'fresh' : 'warm',
    });
    thread.start();
    await thread.join();
    if (thread.exception !== undefined) throw asBullError(thread.exception, Error);
    try {
      return sealResult(base.secret, place, thread.result);
    } catch (error) {
      throw asBullError(Object.assign(new TypeError(`the result cannot be serialised by v8.serialize: ${(error as Error)?.message}`),
        { code: 'ERR_REMOTE_RESULT' }), Error);
    }
  };
  // What a job threw, as BullMQ keeps it: the message, and the stack with the class and code.
  const asBullError = (error: unknown, Class: new (message: string) => Error): Error => {
    const { message, stack } = encodeError(error);
    const bull = new Class(message);
    bull.stack = stack;
    return bull;
  };
  const worker: Worker = new BullWorker(base.queue, processor, {
    connection: connectionOptions(base.url), prefix: base.prefix, concurrency, name,
    lockDuration, stalledInterval, maxStalledCount, autorun: true,
  });
  worker.on('error', (error) => {
    process.stderr.write(`background-thread-worker ${name}: ${(error as Error)?.message ?? error}\n`);
  });
  return {
    name,
    queue: base.queue,
    ready: worker.waitUntilReady().then(() => {}),
    async close(timeout?: number) {
      const closing = worker.close();
      if (timeout === undefined || timeout === Infinity) {
        await closing;
        return true;
      }
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<boolean>((resolve) => { timer = setTimeout(resolve, timeout * 1000, false); });
      const drained = await Promise.race([closing.then(() => true), expired]);
      clearTimeout(timer);
      return drained;
    },
  };
}
