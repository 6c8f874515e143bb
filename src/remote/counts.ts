// remoteQueueCounts(): how many jobs a remote threads' queue holds in each state, read on a
// connection of its own, opened for the call and closed after it (a thread's link carries
// QueueEvents and a poll: more than one command needs), bounded by the enqueueTimeout.
import { BackgroundThreadError, argTypeError } from '../core/errors';
import { received } from '../core/checks';
import { within } from '../core/within';
import { loadBullmq } from './bullmq';
import { connectionOptions, redactUrl, remoteSpec, resolvedConfig, type RemoteJobOptions } from './options';

/** A remote threads' queue's jobs by state, as Redis holds them now (`remoteQueueCounts()`). */
export interface RemoteQueueCounts {
  /**
   * Ready to run, waiting for a worker: BullMQ's `waiting`, with its `prioritized` (a thread with
   * a `priority`) and `paused` (a paused queue's) jobs.
   */
  waiting: number;
  /** Taken by a worker, running. */
  active: number;
  /** Waiting for their `delay` or their `backoff` before a retry. */
  delayed: number;
  /** Ended with a result, kept in Redis for 24 hours. */
  completed: number;
  /** Ended with an exception (or withdrawn, refused), kept in Redis for 7 days. */
  failed: number;
}

/**
 * The counts of the jobs of the queue a remote thread started with the same `remote` options
 * would use (its `queue`, else the configured one), on the same Redis and prefix
 * (`configureRemote()` and its environment variables), read on a connection opened for the
 * call. Errors come back as a rejected Promise.
 *
 * @param options - A thread's `remote` option: `true` or omitted for the configured queue, or
 *   {@link RemoteJobOptions}, checked as a thread's are (only `queue` matters here).
 * @returns A Promise of the counts, read in one step (a Lua script: a consistent snapshot).
 * @throws As a rejection, what a remote `start()` throws for the same options and configuration
 *   (`ERR_INVALID_ARG_TYPE`, `ERR_INVALID_ARG_VALUE`, `ERR_OUT_OF_RANGE`,
 *   `ERR_REMOTE_NOT_CONFIGURED`, `ERR_REMOTE_BULLMQ_MISSING`); a BackgroundThreadError
 *   `ERR_REMOTE_UNAVAILABLE` when Redis refuses the connection or the command, or does not answer
 *   within the `enqueueTimeout` (its `cause` what ioredis said, if anything).
 * @example
 * ```js
 * const { waiting, active, failed } = await remoteQueueCounts({ queue: 'reports' });
 * ```
 */
export async function remoteQueueCounts(
  options?: true | RemoteJobOptions,
): Promise<RemoteQueueCounts> {
  // false, which makes a module target local, names no queue.
  if (options === (false as unknown)) {
    throw argTypeError(`The "options" argument must be true or an object of remote job options. ${received(options)}`);
  }
  const spec = remoteSpec(options === undefined ? true : options)!;
  const config = resolvedConfig();
  const { Queue } = loadBullmq();
  const name = spec.queue ?? config.queue;
  let lastError: unknown;
  // No reconnection: a server that is not there is an answer.
  const connection = { ...connectionOptions(config.url), retryStrategy: () => null };
  const queue = new Queue(name, { connection, prefix: config.prefix });
  queue.on('error', (error) => { lastError = error; });
  const counting = queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed');
  counting.catch(() => {});
  let answered: boolean;
  try {
    // Held open: whoever awaits the counts gets an answer before the process may exit.
    answered = await within(counting, config.enqueueTimeout, true);
  } catch (error) {
    throw unavailable(name, config.url, `refused (${(error as Error)?.message ?? error})`, error);
  } finally {
    // close(), not disconnect(), which waits for a connection that never came up.
    void queue.close().catch(() => {});
  }
  if (!answered) {
    throw unavailable(name, config.url, `did not answer within ${config.enqueueTimeout} s`, lastError);
  }
  const counts = await counting;
  const count = (state: string): number => counts[state] ?? 0;
  return {
    waiting: count('waiting') + count('prioritized') + count('paused'),
    active: count('active'), delayed: count('delayed'), completed: count('completed'),
    failed: count('failed'),
  };
}

function unavailable(queue: string, url: string, what: string,
  cause: unknown): BackgroundThreadError {
  return new BackgroundThreadError(`cannot count the jobs of queue ${queue}: Redis at ${redactUrl(url)} ${what}`,
    { code: 'ERR_REMOTE_UNAVAILABLE', cause });
}
