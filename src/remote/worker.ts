// Remote threads, the worker's half: a BullMQ Worker whose processor runs each job as a module
// target's thread of this process, in the package's own isolates, so that a CPU-bound job never
// blocks this loop, where BullMQ renews the job's lock (a plain BullMQ processor that computes
// for longer than the lock is declared stalled and run twice). A job is untrusted input: its
// seal is opened before its arguments are deserialised, and its module is resolved inside
// the root and against the allow-list (src/remote/protocol.ts) before anything is imported.
import * as fs from 'node:fs';
import * as os from 'node:os';
import type { Job, Queue, Worker } from 'bullmq';
import { BackgroundThread } from '../thread/background-thread';
import { ThreadCancelledError, argTypeError } from '../core/errors';
import { connectionOptions, redactUrl, resolvedConfig } from './options';
import { within } from '../core/within';
import { loadBullmq, redisClient } from './bullmq';
import type { JobProgress, JobResult } from './protocol';
import { positiveIntegerOption } from '../core/checks';
import { runChannel, runTrace, traceRun, traceSettled } from '../core/tracing';

/**
 * `startWorker()`'s options; `url`, `queue`, `root` and `secret` fall back as in
 * `configureRemote()`.
 */
export interface RemoteWorkerOptions {
  /**
   * Required: glob patterns (`*` within a path segment, `**` across) of the module paths, relative
   * to the root, that jobs may run.
   */
  allow: string[];
  /** Redis, as `configureRemote()`'s `url`; default `BACKGROUND_THREAD_REMOTE`. */
  url?: string;
  /**
   * The queue to take jobs from; default `BACKGROUND_THREAD_REMOTE_QUEUE` or `background-thread`.
   */
  queue?: string;
  /**
   * The folder job module paths are resolved in (never out of); default
   * `BACKGROUND_THREAD_REMOTE_ROOT` or `process.cwd()`.
   */
  root?: string;
  /** The secret jobs are sealed with; default `BACKGROUND_THREAD_REMOTE_SECRET`. */
  secret?: string;
  /** Jobs run at once; default `os.availableParallelism()`. */
  concurrency?: number;
  /** The worker's name in BullMQ (a job's `thread.remote.worker`); default `host:pid`. */
  name?: string;
  /**
   * Milliseconds a job's lock lasts unless renewed (BullMQ's `lockDuration`); default 30000. A
   * worker that dies holding a job frees it after this.
   */
  lockDuration?: number;
  /** Milliseconds between checks for stalled jobs (BullMQ's `stalledInterval`); default 30000. */
  stalledInterval?: number;
  /**
   * How many times a job may stall before it fails with `ERR_REMOTE_STALLED` (BullMQ's
   * `maxStalledCount`); default 1.
   */
  maxStalledCount?: number;
}

/** A running worker. */
export interface RemoteWorker {
  /** Its name in BullMQ. */
  readonly name: string;
  /** The queue it takes jobs from. */
  readonly queue: string;
  /**
   * The Redis it takes them from: its URL with the password as `***`, or its unix socket's path.
   */
  readonly url: string;
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


/**
 * Runs a worker of remote threads in this process (the `background-thread-worker` command is
 * this and a drain on SIGTERM/SIGINT): each job's export runs as a module target's thread here.
 * A job it refuses because of the job (a module outside the allow-list, a malformed job) fails at
 * once; one it refuses maybe because of its own configuration (a seal its secret does not open, a
 * module its root does not have, a newer protocol) is handed back for another worker, noted in
 * the job's log, and fails for good only once every live worker of the queue has refused it.
 *
 * @param options - The allow-list (required) and the connection; see {@link RemoteWorkerOptions}.
 * @returns The running worker.
 * @throws {TypeError} `ERR_REMOTE_NO_ALLOW_LIST` without an allow-list; `ERR_INVALID_ARG_TYPE` or
 *   `ERR_INVALID_ARG_VALUE` for a bad option.
 * @throws {BackgroundThreadError} `ERR_REMOTE_NOT_CONFIGURED` without a URL or a secret;
 *   `ERR_REMOTE_BULLMQ_MISSING` when BullMQ is not installed.
 */
export function startWorker(options: RemoteWorkerOptions): RemoteWorker {
  // Loaded now, not with the package: every isolate loads the package.
  const {
    THROWN_FIELD, allowList, cancelChannel, encodeError, isConfigRefusal, openJob,
    readCancelRequest,
    refusal, resolveAllowed, sealProgress, sealResult, sealThrown,
  } = require('./protocol') as typeof import('./protocol');
  const base = resolvedConfig(options, 'startWorker', WORKER_KEYS);  // checks the object and its keys
  const allowed = allowList(options.allow);
  let root: string;
  try {
    root = fs.realpathSync(base.root);
  } catch (error) {
    throw Object.assign(argTypeError(`The worker's root ${base.root} is not a folder that exists`, 'ERR_INVALID_ARG_VALUE'), { cause: error });
  }
  const concurrency = positiveIntegerOption(options.concurrency, 'concurrency', os.availableParallelism?.() ?? os.cpus().length);
  const lockDuration = positiveIntegerOption(options.lockDuration, 'lockDuration', 30000);
  const stalledInterval = positiveIntegerOption(options.stalledInterval, 'stalledInterval', 30000);
  const maxStalledCount = options.maxStalledCount === 0 ? 0 : positiveIntegerOption(options.maxStalledCount, 'maxStalledCount', 1);
  const name = options.name === undefined ? `${os.hostname()}:${process.pid}` : String(options.name);
  const { Worker: BullWorker, Queue: BullQueue, DelayedError, UnrecoverableError } = loadBullmq();
  const say = (line: string): void => { process.stderr.write(`background-thread-worker ${name}: ${line}\n`); };

  // The queue as the refusals read it (job logs, live workers): a connection opened at the first.
  let peers: Queue | undefined;
  // BullMQ names a worker's blocking connection `prefix:base64(queue):w:name` (getWorkers() lists
  // them).
  const workerClient = `${base.prefix}:${Buffer.from(base.queue).toString('base64')}:w:`;
  const REFUSED = /^refused by (.+?): ERR_[A-Z0-9_]+: /;
  /**
   * A refusal of this worker's own making, maybe (another secret, a stale root, an older
   * version): recorded in the job's log, once per worker; the job is handed back (delayed a
   * little, so that this worker does not take it straight back) unless every live worker of the
   * queue has refused it, or Redis cannot say which workers are live (no CLIENT LIST). Returns
   * the error to fail the job with for good, or null once it is handed back.
   */
  const handBack = async (job: Job, token: string,
    error: Error & { code?: string }): Promise<Error | null> => {
    peers ??= new BullQueue(base.queue,
      { connection: connectionOptions(base.url), prefix: base.prefix });
    const { logs } = await peers.getJobLogs(job.id!);
    const refusers = new Set(logs.map((line) => REFUSED.exec(line)?.[1])
      .filter((refuser) => refuser !== undefined));
    const first = !refusers.has(name);
    if (first) {
      refusers.add(name);
      await job.log(`refused by ${name}: ${error.code}: ${error.message}`);
    }
    let live: string[] | null;
    try {
      const clients = await peers.getWorkers();
      live = clients.every((client) => typeof client.rawname === 'string')
        ? clients.map((client) => String(client.rawname))
          .filter((rawname) => rawname.startsWith(workerClient))
          .map((rawname) => rawname.slice(workerClient.length))
        : null;
    } catch {
      live = null;
    }
    if (live === null || live.every((peer) => refusers.has(peer))) {
      const everyone = live === null ? 'Redis does not list the live workers (CLIENT LIST)' : `refused by every live worker: ${[...refusers].join(', ')}`;
      if (first) say(`refused job ${job.id} (${error.code}: ${error.message}); failed for good: ${everyone}`);
      return refusal(error.code!, `${error.message} (${everyone})`);
    }
    if (first) say(`refused job ${job.id} (${error.code}: ${error.message}); handed back for another worker`);
    await job.moveToDelayed(Date.now() + Math.min(100 * job.attemptsStarted, 2000), token);
    return null;
  };

  // Three parameters: BullMQ passes the signal only to a processor that declares it.
  const processor = async (job: Job, token: string | undefined,
    signal?: AbortSignal): Promise<JobResult> => {
    const place = { prefix: base.prefix, queue: base.queue, jobId: job.id! };
    let url: string;
    let opened: ReturnType<typeof openJob>;
    try {
      opened = openJob(base.secret, place, job.data);
      url = resolveAllowed(root, allowed, opened.module);
    } catch (error) {
      // A refusal: another attempt here would do no better; another worker might.
      // (Redis failing the hand-back: the refusal is final, as any other.)
      const final = isConfigRefusal(error) && token !== undefined
        ? await handBack(job, token, error as Error).catch(() => error) : error;
      if (final === null) throw new DelayedError();
      throw asBullError(final, UnrecoverableError);
    }
    const thread = new BackgroundThread({
      target: { module: url, export: opened.export }, args: opened.args, kwargs: opened.kwargs,
      name: opened.name, daemon: false, isolate: opened.fresh ? 'fresh' : 'warm',
      // Its creator's cancel (cancelChannel, below: BullMQ's Worker.cancelJob aborts the signal)
      // cancels it, with the creator's grace.
      cancelGrace: opened.cancelGrace, signal,
    });
    // Its progress goes into the job (BullMQ's progress: its event and its hash), sealed, in
    // order; all of it before the job ends.
    let progressed = Promise.resolve();
    let lastProgress: JobProgress | undefined;
    thread.on('progress', (value: unknown) => {
      const sealed = lastProgress = sealProgress(base.secret, place, value);
      progressed = progressed.then(() => job.updateProgress(sealed as unknown as object))
        .catch(() => {});
    });
    // Traced when this process subscribes: the job's thread starts inside the run's start stores
    // (what a start subscriber then injects into its own carrier carries the trace on).
    const trace = runTrace(thread, 'remote', null, opened.name, false, job.id!, opened.carrier);
    if (trace === null) {
      thread.start();
    } else {
      try {
        traceRun(trace, () => { thread.start(); trace.ident = thread.ident; });
      } catch (error) {
        traceSettled(runChannel!, trace, { error });
        throw error;
      }
    }
    await thread.join();
    await progressed;
    if (trace !== null) {
      traceSettled(runChannel!, trace, thread.exception !== undefined
        ? { error: thread.exception } : { result: thread.result });
    }
    // Cancelled: failed for good (BullMQ retries nothing unrecoverable).
    if (thread.exception instanceof ThreadCancelledError) {
      throw asBullError(thread.exception, UnrecoverableError);
    }
    if (thread.exception !== undefined) throw await thrownBy(job, place, thread.exception);
    let sealed: JobResult;
    try {
      sealed = sealResult(base.secret, place, thread.result);
    } catch (error) {
      throw asBullError(Object.assign(new TypeError(`the result cannot be serialised by v8.serialize: ${(error as Error)?.message}`),
        { code: 'ERR_REMOTE_RESULT' }), Error);
    }
    // How it ran, as the hash has it: its creator needs nothing but the `completed` event.
    return { ...sealed, worker: name, attempts: job.attemptsStarted, stalls: job.stalledCounter,
      ...(lastProgress === undefined ? {} : { progress: lastProgress }) };
  };
  // What the job's thread threw: as BullMQ keeps it (asBullError), and whole, sealed in the job's
  // hash beside it before BullMQ fails the job (the creator rebuilds it from there). Without that
  // field (Redis failed the write), the creator has what BullMQ keeps.
  const thrownBy = async (job: Job, place: { prefix: string; queue: string; jobId: string },
    error: unknown): Promise<Error> => {
    const bull = asBullError(error, Error);
    const sealed = sealThrown(base.secret, place, bull.message, error);
    if (sealed !== null) {
      await (await redisClient(worker)).hset(worker.toKey(job.id!), THROWN_FIELD, sealed)
        .catch(() => {});
    }
    return bull;
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
  // Creators' cancel requests (any worker of the queue may be running the job: the one that is
  // cancels it). On a connection of its own: a subscribed connection can do nothing else.
  const cancels = (async () => {
    const subscriber = (await redisClient(worker)).duplicate();
    subscriber.on('message', (_channel, message) => {
      const request = readCancelRequest(message);  // untrusted: anyone on the Redis may publish
      if (request !== null) worker.cancelJob(request.jobId, 'cancelled by its creator');
    });
    await subscriber.subscribe(cancelChannel(base));
    return subscriber;
  })();
  cancels.catch(() => {});
  return {
    name,
    queue: base.queue,
    url: redactUrl(base.url),
    ready: worker.waitUntilReady().then(() => cancels).then(() => {}),
    async close(timeout?: number) {
      // The deadline holds the process open: a drain that hangs must still give up.
      const closing = Promise.all([worker.close(), peers?.close(),
        cancels.then((subscriber) => { subscriber.disconnect(); }, () => {})]);
      return within(closing, timeout ?? null, true);
    },
  };
}

/**
 * The former name of {@link startWorker}, kept so that code written for 0.1 runs unchanged.
 *
 * @deprecated Use `startWorker()`: the same function.
 * @param options - As {@link startWorker}'s.
 * @returns As {@link startWorker}'s.
 */
export const runWorker: (options: RemoteWorkerOptions) => RemoteWorker = startWorker;
