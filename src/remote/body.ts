// Remote threads, the creator's half: a module target with `remote` runs as a BullMQ job on a
// worker (src/remote/worker.ts) and stays a BackgroundThread here. Its body is a native record,
// adopted as a module target's is (so join, joinAll, keep-alive and teardown are the same code),
// finished when the job reaches a terminal state: learned from BullMQ's QueueEvents, and from a
// poll of the job's state, since events are best-effort (a reconnect loses them). A thread's end
// matches its job's: past the enqueueTimeout, a job whose add may have reached Redis is withdrawn
// (or followed, if a worker has begun it) before its thread ends. What the job says travels in
// src/remote/protocol.ts's sealed form.
import { randomUUID } from 'node:crypto';
import type { JobsOptions, Queue, QueueEvents } from 'bullmq';
import { BackgroundThreadError, argTypeError } from '../core/errors';
import { attach } from '../native/loop';
import type { ThreadBody, ThreadEvents, ThreadStart } from '../thread/body';
import type { ModuleRef } from '../thread/module-target';
import { connectionOptions, redactUrl, resolvedConfig, type RemoteJob, type RemoteSpec, type ResolvedConfig } from './options';
import {
  THROWN_FIELD, WITHDRAWN, cancelChannel, decodeError, encodeError, openProgress, openThrown,
  openResult, ranBy, refusal, relativeModule, sealJob, withdrawnError, type CancelRequest,
  type JobData, type JobPlace, type RanBy,
} from './protocol';
import { JobReader, loadBullmq, redisClient, type RawClient } from './bullmq';
import { afterProcessEvent } from '../core/process-events';

/** One add of a job on a link, as sent: what tells whether it may have reached Redis. */
interface Attempt {
  readonly link: Link;
  /**
   * The connection was up: the command went to the socket at once (else to ioredis's offline
   * queue).
   */
  readonly wasReady: boolean;
  /** The link's count of connections made ready, then: a new one flushes the offline queue. */
  readonly readies: number;
}

/** Whether an add may have reached Redis: sent on a ready connection, or flushed by a later one. */
const mayHaveSent = (attempt: Attempt): boolean =>
  attempt.wasReady || attempt.link.readies !== attempt.readies;

/** ioredis's rejection of a command that got no answer (its connection went): it may have run. */
const lostConnection = (error: unknown): boolean =>
  (error as Error)?.message === 'Connection is closed.' || (error as Error)?.name === 'MaxRetriesPerRequestError';

/**
 * A remote thread's job as its creator follows it: adding it (until Redis answers or the
 * enqueueTimeout passes), withdrawing it (the timeout passed while an add may have reached
 * Redis), then following it to its end.
 */
interface Tracker {
  readonly jobId: string;
  link: Link;
  readonly info: {
    jobId: string; queue: string; attempts: number; stalls: number; worker: string | null;
    enqueued: Promise<string>;
  };
  readonly secret: string;
  readonly place: JobPlace;
  /** What queue.add() takes: the thread's name, the sealed data, the job options. */
  readonly add: { name: string; data: JobData; options: JobsOptions };
  /** The add in flight, if any. */
  attempt: Attempt | null;
  /** An add may have reached Redis (so the job may exist, or appear later). */
  mayBeInRedis: boolean;
  /** The enqueueTimeout has passed. */
  expired: boolean;
  /**
   * The job is being withdrawn (src/remote/body.ts's WITHDRAW, on a fresh link, until Redis
   * answers).
   */
  withdrawing: boolean;
  /**
   * The link a withdrawal is in flight on, if any (one left behind on a link given up on may never
   * answer).
   */
  busy: Link | null;
  /** Redis has the job (or had it, begun, when the withdrawal came): its end is read from it. */
  following: boolean;
  /** Its job's end was announced before Redis's answer to the add came: follow() reads it. */
  endSeen: boolean;
  settled: boolean;
  /** The thread was cancelled, with this error: its job is removed, or its worker asked to stop. */
  cancel: Error | null;
  /** The seal of the last progress value delivered (a job's hash keeps the last one too). */
  lastProgress: string | null;
  /** A progress value from the queue's events or the job's hash (untrusted). */
  progressed(sealed: unknown): void;
  /** Redis has the job: `enqueued` resolves, and its end is followed. */
  follow(): void;
  /**
   * The thread ends with ERR_REMOTE_ENQUEUE: the job is not in Redis and never will be (Redis
   * refused it, did not take it in time, or has it withdrawn).
   */
  notEnqueued(why: 'refused' | 'timeout' | 'withdrawn', cause?: unknown): void;
  settle(outcome: { result?: unknown; error?: unknown }): void;
}

/**
 * How long a queue's connections stay open with no thread using them (unref'd: they hold nothing
 * open).
 */
const LINK_IDLE_MS = 5000;

/**
 * How long a withdrawn job's tombstone (a job id claimed before its add came) stays: as failed jobs
 * do.
 */
const FAILED_KEPT_S = 7 * 24 * 3600;

// Withdraws a job whose add may have reached Redis, in one step (a script runs alone), whatever
// the order in which the add and this arrive: a job id not there yet gets a tombstone (a hash
// that reads as a failed job), so that a late add is BullMQ's duplicate no-op (its add scripts
// skip an id whose key exists); our job, not begun (BullMQ sets processedOn when a worker takes
// a job), gets the withdrawn data, which a worker fails unrun (src/remote/protocol.ts); a job a
// worker has begun, or another thread's of the same id, is followed instead.
// KEYS[1]: the job's hash. ARGV: [1] the data it was added with, [2] the withdrawn data, [3] the
// failure's message, [4] its stack trace (JSON), [5] now (ms), [6] the tombstone's life (ms), [7]
// name.
const WITHDRAW = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'name', ARGV[7], 'data', ARGV[2], 'opts', '{}', 'timestamp', ARGV[5],
    'finishedOn', ARGV[5], 'failedReason', ARGV[3], 'stacktrace', ARGV[4], 'atm', '0')
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
  return 'withdrawn'
end
local data = redis.call('HGET', KEYS[1], 'data')
if data == ARGV[2] then return 'withdrawn' end
if data ~= ARGV[1] or redis.call('HEXISTS', KEYS[1], 'processedOn') == 1 then return 'follow' end
redis.call('HSET', KEYS[1], 'data', ARGV[2])
return 'withdrawn'`;

/**
 * One queue's connections, shared by the threads that use it, closed a while after the last one
 * ends.
 */
class Link {
  readonly queue: Queue;
  events: QueueEvents | null = null;
  readonly jobs = new Map<string, Tracker>();
  readonly ready: Promise<void>;
  lastError: unknown = null;
  /** How many times the queue's connection has become ready (an Attempt's clock). */
  readies = 0;
  #client: RawClient | undefined;
  readonly #reader = new JobReader(() => redisClient(this.queue), [THROWN_FIELD, 'progress']);
  #poll: NodeJS.Timeout;
  #idle: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(readonly key: string, readonly config: ResolvedConfig, name: string) {
    const { Queue, QueueEvents } = loadBullmq();
    // Reconnects while the link is in use, and never once it is closed: a connection that never
    // came up cannot be closed otherwise, and its reconnect timer would hold the process open.
    const connection = {
      ...connectionOptions(config.url),
      retryStrategy: (times: number) => (this.#closed ? null : Math.min(100 * times, 2000)),
    };
    const queue = new Queue(name, { connection, prefix: config.prefix });
    this.queue = queue;
    queue.on('error', (error) => { this.lastError = error; });
    // QueueEvents starts from the stream's last id, read first: started with the default '$', it
    // would miss what happens before its first read (BullMQ issue #2874).
    this.ready = (async () => {
      const raw = await redisClient(queue);
      unref(raw);
      this.#client = raw;
      this.readies = 1;
      raw.on('ready', () => { this.readies++; });
      const last = await raw.xrevrange(queue.keys.events!, '+', '-', 'COUNT', 1);
      // blockingTimeout 0: one XREAD that blocks until events come, on an unref'd connection;
      // BullMQ 6 races a bounded one against a ref'd timer, which held the creator open for ever.
      const events = new QueueEvents(name, {
        connection, prefix: config.prefix, lastEventId: last[0]?.[0] ?? '0-0', blockingTimeout: 0,
      });
      this.events = events;
      if (this.#closed) void events.close().catch(() => {});
      events.on('error', (error) => { this.lastError = error; });
      events.on('completed', ({ jobId, returnvalue }) => { this.ended(jobId, returnvalue); });
      events.on('failed', ({ jobId }) => { this.ended(jobId); });
      events.on('stalled', ({ jobId }) => {
        const tracker = this.jobs.get(jobId);
        if (tracker !== undefined) tracker.info.stalls++;
      });
      events.on('active', ({ jobId }) => {
        const tracker = this.jobs.get(jobId);
        if (tracker === undefined) return;
        tracker.info.attempts++;
        // A cancelled job a worker took after all (a retry after a stall): asked again.
        if (tracker.cancel !== null) requestCancel(tracker);
      });
      events.on('progress', ({ jobId, data }) => { this.jobs.get(jobId)?.progressed(data); });
      await events.waitUntilReady();
      unref(await redisClient(events));
    })();
    this.ready.catch((error: unknown) => { this.lastError = error; });
    this.#poll = setInterval(() => { for (const id of this.jobs.keys()) this.check(id); },
      config.pollInterval * 1000).unref();
  }

  /** The queue's connection is up: a command goes to Redis at once. */
  isReady(): boolean {
    return this.#client?.status === 'ready';
  }

  /**
   * Reads the job's state and, if terminal, settles its thread; or withdraws it (retried at each
   * poll until Redis answers). Errors wait for the next poll.
   */
  check(jobId: string): void {
    const tracker = this.jobs.get(jobId);
    if (tracker === undefined || tracker.settled) return;
    const remember = (error: unknown): void => { this.lastError = error; };
    if (tracker.withdrawing) void this.#withdraw(tracker).catch(remember);
    else if (tracker.following) void this.#read(tracker).catch(remember);
  }

  /**
   * BullMQ's event says the job has ended. Completed, with a return value that says how it ran
   * (src/remote/protocol.ts's JobResult): the thread ends from it, with no read of the job; else
   * (failed, an older worker's result, a result that does not open: maybe a forged event) the job
   * is read.
   */
  ended(jobId: string, returnvalue?: unknown): void {
    const tracker = this.jobs.get(jobId);
    if (tracker === undefined || tracker.settled) return;
    if (!tracker.following) tracker.endSeen = true;
    const ran = tracker.following && returnvalue !== undefined ? ranBy(returnvalue) : null;
    if (ran === null || !this.#completed(tracker, returnvalue, ran, false)) this.check(jobId);
  }

  async #withdraw(tracker: Tracker): Promise<void> {
    if (tracker.busy === this) return;
    tracker.busy = this;
    try {
      await this.ready;
      const outcome = await this.#withdrawScript(tracker);
      if (tracker.settled || !tracker.withdrawing) return;
      if (outcome === 'withdrawn') tracker.notEnqueued('withdrawn');
      else tracker.follow();  // a worker has begun it: the thread ends as the job does
    } finally {
      if (tracker.busy === this) tracker.busy = null;
    }
  }

  /** WITHDRAW on `tracker`'s job: 'withdrawn' (it never runs), or 'follow' (a worker began it). */
  async #withdrawScript(tracker: Tracker): Promise<unknown> {
    // The tombstone's failure as a worker's failure writes it (encodeError, whole), so that
    // #read decodes one format, whatever encodeError becomes.
    const { message, stack } = encodeError(withdrawnError(tracker.place));
    return this.#client!.eval(WITHDRAW, 1, this.queue.toKey(tracker.jobId),
      JSON.stringify(tracker.add.data), JSON.stringify(WITHDRAWN), message,
      JSON.stringify([stack]), Date.now(), FAILED_KEPT_S * 1000, tracker.add.name);
  }

  async #read(tracker: Tracker): Promise<void> {
    // One read: a job is over once it has finishedOn (a retry or a stall puts it back without),
    // and completed then when it has a return value (the worker always returns a sealed one);
    // with the field BullMQ's Job does not keep (THROWN_FIELD). Batched with the link's others.
    const job = await this.#reader.read(this.queue.toKey(tracker.jobId));
    if (tracker.settled || job === 'running') return;
    if (job === 'gone') {
      tracker.settle({ error: refusal('ERR_REMOTE_JOB_LOST', `job ${tracker.jobId} of queue ${this.queue.name} is gone from Redis (removed, or Redis lost its data)`) });
      return;
    }
    const progress = job.extra.progress;
    let last: unknown;
    if (typeof progress === 'string') {
      try { last = JSON.parse(progress); } catch { /* not JSON: not ours */ }
    }
    const ran = {
      worker: job.processedBy, attempts: job.attemptsStarted, stalls: job.stalledCounter,
      progress: last,  // the last progress value, if the events have not delivered it yet
    };
    if (job.returnvalue !== null && job.returnvalue !== undefined) {
      this.#completed(tracker, job.returnvalue, ran, true);
      return;
    }
    noteRan(tracker, ran);
    const reason = job.failedReason;
    if (reason === 'job stalled more than allowable limit') {
      tracker.settle({ error: refusal('ERR_REMOTE_STALLED', `job ${tracker.jobId} stalled ${job.stalledCounter} times ` +
        '(its worker died or froze while running it), more than the workers\' maxStalledCount') });
      return;
    }
    // The thread's exception as it was, sealed by the worker; else (a refusal, a tombstone, a
    // worker that could not write it) what BullMQ keeps of it.
    const thrown = openThrown(tracker.secret, tracker.place, reason, job.extra[THROWN_FIELD]);
    const stacks = job.stacktrace;
    tracker.settle({ error: thrown !== undefined
      ? thrown : decodeError(reason, stacks[stacks.length - 1] ?? undefined) });
  }

  /**
   * Ends the thread of a completed job with its result, after its last progress value (if the
   * events have not delivered it yet). A result that does not open ends it with
   * ERR_REMOTE_BAD_SIGNATURE when it was read from the job's hash (`read`); from an event, it is
   * left to the read (false).
   */
  #completed(tracker: Tracker, returnvalue: unknown,
    ran: Omit<RanBy, 'worker'> & { worker: string | null }, read: boolean): boolean {
    let outcome: { result?: unknown; error?: unknown };
    try {
      outcome = { result: openResult(tracker.secret, tracker.place, returnvalue) };
    } catch (error) {
      if (!read) return false;
      outcome = { error };
    }
    noteRan(tracker, ran);
    tracker.settle(outcome);
    return true;
  }

  /**
   * The thread was cancelled, its job in Redis. Not begun by a worker: withdrawn (WITHDRAW, in
   * one step, so that no worker can begin it after), the thread ends, and the job is removed (a
   * worker that took it meanwhile fails it unrun). Begun: the queue's workers are asked to cancel
   * it (cancelChannel), and the thread ends when the job does (failed, not retried); a job that
   * ended before the request came stays in Redis as it ended.
   */
  async cancel(tracker: Tracker): Promise<void> {
    await this.ready;
    if (tracker.settled) return;
    if (await this.#withdrawScript(tracker) === 'withdrawn') {
      tracker.settle({ error: tracker.cancel! });
      await this.queue.remove(tracker.jobId);
      return;
    }
    const request: CancelRequest = { jobId: tracker.jobId };
    await this.#client!.publish(cancelChannel(tracker.place), JSON.stringify(request));
  }

  /** Follows `tracker`'s job on this link. */
  use(tracker: Tracker): void {
    clearTimeout(this.#idle);
    this.jobs.set(tracker.jobId, tracker);
  }

  /**
   * The job has ended. A link left unused closes after a while (reopening costs milliseconds),
   * at once if its connection is not up (its reconnect timer would hold the process open).
   */
  drop(tracker: Tracker): void {
    if (this.jobs.get(tracker.jobId) === tracker) this.jobs.delete(tracker.jobId);
    if (this.jobs.size > 0) return;
    if (this.isReady()) this.#idle = setTimeout(() => { this.close(); }, LINK_IDLE_MS).unref();
    else this.close(true);
  }

  /**
   * Gives up on this connection (an add on it got no answer within the enqueueTimeout), so that
   * nothing it holds is sent later; its threads go on on a new one: adds sent again (a job id is
   * added once: a second add of it is a no-op), withdrawals and follows resumed.
   */
  fail(): void {
    this.close(true);
    for (const tracker of this.jobs.values()) {
      if (tracker.settled) continue;
      if (tracker.attempt?.link === this) {
        tracker.mayBeInRedis ||= mayHaveSent(tracker.attempt);
        tracker.attempt = null;
      }
      if (tracker.expired && !tracker.withdrawing) continue;  // ends now
      const link = linkFor(this.config, this.queue.name);
      tracker.link = link;
      link.use(tracker);
      if (tracker.withdrawing || tracker.following) {
        void link.ready.then(() => { link.check(tracker.jobId); }, () => {});
      } else {
        send(tracker);
      }
    }
  }

  /**
   * Lets go of the connections; `now`: drops them at once (Redis may not be there to say goodbye
   * to).
   */
  close(now = false): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#poll);
    clearTimeout(this.#idle);
    if (links.get(this.key) === this) links.delete(this.key);
    // QueueEvents is always closed, never only disconnected: disconnect() leaves its read loop
    // running, retrying every 5 s on a ref'd timer, which held the creator open for ever.
    const closing = [now ? this.queue.disconnect() : this.queue.close(), this.events?.close()];
    void Promise.all(closing).catch(() => {});
  }
}

/** How an ended job ran, before its thread settles: its last progress value, its job's info. */
function noteRan(tracker: Tracker, ran: Omit<RanBy, 'worker'> & { worker: string | null }): void {
  tracker.progressed(ran.progress);
  Object.assign(tracker.info, { attempts: ran.attempts, stalls: ran.stalls, worker: ran.worker });
}

/**
 * A connection's socket must not hold the process open: the threads' native records do (non-daemon
 * ones). Nor its reconnect timer, once Redis has gone: ioredis sets it before it emits
 * 'reconnecting' (on the next tick), and would hold a creator whose threads are all daemons open
 * for as long as Redis stays away.
 */
function unref(client: unknown): void {
  const connection = client as {
    stream?: { unref?: () => void }; reconnectTimeout?: { unref?: () => void } | null;
    on?: (event: string, listener: () => void) => void;
  };
  connection.stream?.unref?.();
  connection.on?.('connect', () => { connection.stream?.unref?.(); });
  connection.on?.('reconnecting', () => { connection.reconnectTimeout?.unref?.(); });
}

const links = new Map<string, Link>();

function linkFor(config: ResolvedConfig, queue: string): Link {
  const key = JSON.stringify([config.url, config.prefix, queue]);
  let link = links.get(key);
  if (link === undefined) {
    link = new Link(key, config, queue);
    links.set(key, link);
  }
  return link;
}

/** A started remote thread, as its BackgroundThread sees it. */
export interface RemoteThreadBody extends ThreadBody {
  readonly job: RemoteJob;
}

/** Jobs not yet taken by Redis, for the warning at exit (process.exit() cannot wait for them). */
const unacknowledged = new Set<Tracker>();
let exitWarning = false;

/**
 * Adds the tracker's job on its link, once the link is up. Redis's answer settles the enqueue:
 * taken (follow it), or refused (the thread ends, or, if an earlier add may have reached Redis,
 * withdraws it). No answer (the connection went): sent again on the same link, which reconnects;
 * the enqueueTimeout bounds it all (expire()).
 */
function send(tracker: Tracker): void {
  const link = tracker.link;
  void (async () => {
    await link.ready;
    if (tracker.settled || tracker.expired || tracker.withdrawing || tracker.following ||
      tracker.link !== link) return;
    const attempt: Attempt = { link, wasReady: link.isReady(), readies: link.readies };
    tracker.attempt = attempt;
    try {
      await link.queue.add(tracker.add.name, tracker.add.data, tracker.add.options);
    } catch (error) {
      // Given up on (expire(), link.fail()): handled there.
      if (tracker.attempt !== attempt) return;
      tracker.attempt = null;
      if (!lostConnection(error)) {
        if (!tracker.mayBeInRedis) {
          tracker.notEnqueued('refused', error);
          return;
        }
        tracker.withdrawing = true;  // an earlier add may have reached Redis
        link.check(tracker.jobId);
        return;
      }
      tracker.mayBeInRedis ||= mayHaveSent(attempt);
      send(tracker);
      return;
    }
    // A withdrawal, if any, finds the job.
    if (tracker.settled || tracker.expired || tracker.following) return;
    tracker.attempt = null;
    tracker.follow();
  })().catch((error: unknown) => {
    // link.ready failed (Redis refused what the link asks first): nothing was added.
    if (!tracker.settled && !tracker.expired && tracker.link === link && tracker.attempt === null &&
      !tracker.mayBeInRedis) {
      tracker.notEnqueued('refused', error);
    }
  });
}

/**
 * The enqueueTimeout has passed. An add in flight gets its link given up on (so that it is not
 * sent later, if it was not). An add that certainly never reached Redis (never sent, or still
 * in the offline queue of a connection that has not come up since): the thread ends at once.
 * One that may have: the job is withdrawn, for certain, once Redis answers (or followed, if a
 * worker has begun it); the thread lives until then.
 */
function expire(tracker: Tracker): void {
  if (tracker.settled || tracker.following || tracker.withdrawing) return;
  tracker.expired = true;
  const attempt = tracker.attempt;
  tracker.attempt = null;
  if (attempt !== null) tracker.mayBeInRedis ||= mayHaveSent(attempt);
  if (tracker.mayBeInRedis) tracker.withdrawing = true;
  else tracker.notEnqueued('timeout');
  // An add in flight: its link is given up on (which moves a withdrawing tracker to a new one,
  // and resumes it there), so that an add still in its offline queue is never sent.
  if (attempt !== null) attempt.link.fail();
  else if (tracker.withdrawing) tracker.link.check(tracker.jobId);
}

/**
 * Starts a remote thread: checks what must be checked here (configuration, BullMQ, the module's
 * place under the root, the arguments' cloning), adopts its native record, and enqueues its job.
 * Throws with nothing started.
 */
export function startRemoteThread(ref: ModuleRef, spec: RemoteSpec, start: ThreadStart,
  events: ThreadEvents): RemoteThreadBody {
  const config = resolvedConfig();
  loadBullmq();
  const module = relativeModule(config.root, ref.url);
  const queue = spec.queue ?? config.queue;
  const jobId = spec.jobId ?? randomUUID();
  const place = { prefix: config.prefix, queue, jobId };
  let data;
  try {
    data = sealJob(config.secret, place,
      { module, export: ref.exportName, name: start.name, fresh: start.fresh }, start.args,
      start.kwargs, start.cancelGrace, start.carrier);
  } catch (error) {
    throw Object.assign(argTypeError(`cannot start ${start.name}: the args and kwargs of a remote thread must be ` +
      `serialisable by v8.serialize (${(error as Error)?.message})`, 'ERR_INVALID_ARG_VALUE'), { cause: error });
  }
  const loop = attach();
  const link = linkFor(config, queue);
  if (link.jobs.has(jobId)) {
    throw argTypeError(`cannot start ${start.name}: job ${jobId} is already a live thread of this process`, 'ERR_INVALID_ARG_VALUE');
  }
  const ident = loop.adopt(start.name, start.daemon, start.thread);
  let acknowledge!: (id: string) => void;
  let refuse!: (error: unknown) => void;
  const enqueued = new Promise<string>((resolve, reject) => {
    acknowledge = resolve;
    refuse = reject;
  });
  enqueued.catch(() => {});  // the error goes to the excepthook; awaiting it is optional
  const options: JobsOptions = {
    jobId, attempts: spec.attempts,
    removeOnComplete: { age: 24 * 3600 }, removeOnFail: { age: FAILED_KEPT_S },
  };
  if (spec.backoff !== undefined) options.backoff = typeof spec.backoff === 'number' ? { type: 'fixed', delay: spec.backoff } : spec.backoff;
  if (spec.priority !== undefined && spec.priority > 0) options.priority = spec.priority;
  if (spec.delay !== undefined) options.delay = spec.delay;
  // Ref'd: every remote thread holds the process open until Redis has its job (or it gave up).
  const timer = setTimeout(() => { expire(tracker); }, config.enqueueTimeout * 1000);
  const tracker: Tracker = {
    jobId, link, secret: config.secret, place, add: { name: start.name, data, options },
    attempt: null, mayBeInRedis: false, expired: false, withdrawing: false, busy: null,
    following: false, endSeen: false, settled: false, cancel: null, lastProgress: null,
    progressed(sealed) {
      const seal = (sealed as { progress?: unknown } | null)?.progress;
      if (this.settled || typeof seal !== 'string' || seal === this.lastProgress) return;
      const opened = openProgress(this.secret, this.place, sealed);
      if (opened === undefined) return;
      this.lastProgress = seal;
      events.onProgress(opened.value);
    },
    info: { jobId, queue, attempts: 0, stalls: 0, worker: null, enqueued },
    follow() {
      clearTimeout(timer);
      this.withdrawing = false;
      this.following = true;
      unacknowledged.delete(this);
      acknowledge(jobId);
      // Over already, maybe: an id of the caller's (an existing job: no event would come), an
      // add that may have reached Redis before (on a connection given up on, whose events this
      // link's stream reader never saw), an end announced before Redis answered the add. Else
      // nothing can have happened yet that the link's events would not tell.
      if (spec.jobId !== undefined || this.mayBeInRedis || this.endSeen) this.link.check(jobId);
      if (this.cancel !== null) requestCancel(this);
    },
    notEnqueued(why, cause) {
      const reason = cause ?? this.link.lastError ?? undefined;
      const what = why === 'refused' ? `refused job ${jobId}` : `did not take job ${jobId} within ${config.enqueueTimeout} s` +
        (why === 'withdrawn' ? '; the job is withdrawn: it never runs' : '');
      const error = new BackgroundThreadError(`cannot enqueue ${start.name}: Redis at ${redactUrl(config.url)} ${what} ` +
        `(${describeCause(reason)})`, { code: 'ERR_REMOTE_ENQUEUE', cause: reason });
      refuse(error);
      this.settle({ error });
    },
    settle(outcome) {
      if (this.settled) return;
      this.settled = true;
      clearTimeout(timer);
      unacknowledged.delete(this);
      this.link.drop(this);
      if ('error' in outcome) events.onException(outcome.error);
      else events.onResult(outcome.result);
      // Through the native record, as every thread's end: join() waits natively on it (and a
      // non-daemon thread's record holds the process open), and the end comes back as kEnded, on
      // a later turn, in the order every body's does (src/thread/body.ts).
      loop.finishAdopted(ident);
    },
  };
  link.use(tracker);
  unacknowledged.add(tracker);
  if (!exitWarning) {
    exitWarning = true;
    afterProcessEvent('exit', warnUnacknowledged);  // no 'exit' listener slot of the app's
  }
  send(tracker);
  const pendingReason = 'it is a remote job, whose end only this event loop can learn from Redis';
  return {
    ident,
    job: tracker.info,
    // Pending until its end has been learned: its thread ends on this loop.
    joinSyncRefusal: () => (tracker.settled ? null : pendingReason),
    loopBoundReason: pendingReason,
    ended: () => {},  // settle() delivered its outcome before it finished the record
    cancel: (error) => {
      if (tracker.settled) return;
      tracker.cancel = error;
      // Not in Redis yet: once it is (follow()); never, and the thread ends as it does now.
      if (tracker.following) requestCancel(tracker);
    },
  };
}

function requestCancel(tracker: Tracker): void {
  const { link } = tracker;
  void link.cancel(tracker).catch((error: unknown) => { link.lastError = error; });
}

function describeCause(error: unknown): string {
  if (error === null || error === undefined) return 'no answer';
  return String((error as Error)?.message ?? error);
}

function warnUnacknowledged(): void {
  if (unacknowledged.size === 0) return;
  const ids = [...unacknowledged].map((t) => t.jobId).join(', ');
  process.stderr.write(`background-thread: the process exited before Redis took ${unacknowledged.size} remote ` +
    `job(s), which may be lost: ${ids} (await thread.remote.enqueued before process.exit())\n`);
}
