// Remote threads, the creator's half: a module target with `remote` runs as a BullMQ job on a
// worker (src/remote-worker.ts) and stays a BackgroundThread here. Its body is a native record,
// adopted as a module target's is (so join, joinAll, keep-alive and teardown are the same code),
// finished when the job reaches a terminal state: learned from BullMQ's QueueEvents, and from a
// poll of the job's state, since events are best-effort (a reconnect loses them). What the job
// says travels in src/remote-protocol.ts's sealed form.
import { randomUUID } from 'node:crypto';
import type { Job, JobsOptions, Queue, QueueEvents } from 'bullmq';
import { BackgroundThreadError, argTypeError } from './errors';
import { attach } from './loop';
import type { ModuleRef, ModuleThreadEvents, ModuleThreadStart } from './module-target';
import { connectionOptions, redactUrl, settings, type RemoteJob, type RemoteSpec, type RemoteSettings } from './remote-options';
import { decodeError, openResult, refusal, relativeModule, sealJob, type JobPlace } from './remote-protocol';

type BullMQ = typeof import('bullmq');
let bullmq: BullMQ | undefined;

/** BullMQ, an optional peer dependency, loaded at the first remote start(). */
export function loadBullmq(): BullMQ {
  try {
    return (bullmq ??= require('bullmq') as BullMQ);
  } catch (error) {
    throw new BackgroundThreadError('remote threads need BullMQ: npm install bullmq@~5.81',
      { code: 'ERR_REMOTE_BULLMQ_MISSING', cause: error });
  }
}

/** A remote thread's job as its creator follows it. */
interface Tracker {
  readonly jobId: string;
  link: Link;
  readonly info: { jobId: string; queue: string; attempts: number; stalls: number; worker: string | null; enqueued: Promise<string> };
  readonly secret: string;
  readonly place: JobPlace;
  enqueuedAck: boolean;
  settled: boolean;
  settle(outcome: { result?: unknown; error?: unknown }): void;
}

/** How long a queue's connections stay open with no thread using them (unref'd: they hold nothing open). */
const LINK_IDLE_MS = 5000;

/** One queue's connections, shared by the threads that use it, closed a while after the last one ends. */
class Link {
  readonly queue: Queue;
  events: QueueEvents | null = null;
  readonly jobs = new Map<string, Tracker>();
  readonly ready: Promise<void>;
  lastError: unknown = null;
  #poll: NodeJS.Timeout;
  #idle: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(readonly key: string, readonly s: RemoteSettings, name: string) {
    const { Queue, QueueEvents } = loadBullmq();
    // Reconnects while the link is in use, and never once it is closed: a connection that never
    // came up cannot be closed otherwise, and its reconnect timer would hold the process open.
    const connection = { ...connectionOptions(s.url), retryStrategy: (times: number) => (this.#closed ? null : Math.min(100 * times, 2000)) };
    const queue = new Queue(name, { connection, prefix: s.prefix });
    this.queue = queue;
    queue.on('error', (error) => { this.lastError = error; });
    // QueueEvents starts from the stream's last id, read first: started with the default '$', it
    // would miss what happens before its first read (BullMQ issue #2874).
    this.ready = (async () => {
      const client = await queue.client;
      unref(client);
      // The raw ioredis command (BullMQ's client forwards what its interface does not list).
      const raw = client as unknown as { xrevrange(...args: unknown[]): Promise<[string, string[]][]> };
      const last = await raw.xrevrange(queue.keys.events!, '+', '-', 'COUNT', 1);
      const events = new QueueEvents(name, { connection, prefix: s.prefix, lastEventId: last[0]?.[0] ?? '0-0' });
      this.events = events;
      if (this.#closed) void events.close().catch(() => {});
      events.on('error', (error) => { this.lastError = error; });
      const check = ({ jobId }: { jobId: string }): void => { this.check(jobId); };
      events.on('completed', check);
      events.on('failed', check);
      events.on('stalled', ({ jobId }) => {
        const tracker = this.jobs.get(jobId);
        if (tracker !== undefined) tracker.info.stalls++;
      });
      events.on('active', ({ jobId }) => {
        const tracker = this.jobs.get(jobId);
        if (tracker !== undefined) tracker.info.attempts++;
      });
      await events.waitUntilReady();
      unref(await events.client);
    })();
    this.ready.catch((error: unknown) => { this.lastError = error; });
    this.#poll = setInterval(() => { for (const id of this.jobs.keys()) this.check(id); }, s.pollInterval * 1000).unref();
  }

  /** Reads the job's state and, if terminal, settles its thread. Errors wait for the next poll. */
  check(jobId: string): void {
    const tracker = this.jobs.get(jobId);
    if (tracker === undefined || !tracker.enqueuedAck) return;
    void this.#read(tracker).catch((error: unknown) => { this.lastError = error; });
  }

  async #read(tracker: Tracker): Promise<void> {
    const { Job } = loadBullmq();
    // One read: a job is over once it has finishedOn (a retry or a stall puts it back without),
    // and completed then when it has a return value (the worker always returns a sealed one).
    const job: Job | undefined = await Job.fromId(this.queue, tracker.jobId);
    if (tracker.settled || (job !== undefined && !job.finishedOn)) return;
    if (job === undefined) {
      tracker.settle({ error: refusal('ERR_REMOTE_JOB_LOST', `job ${tracker.jobId} of queue ${this.queue.name} is gone from Redis (removed, or Redis lost its data)`) });
      return;
    }
    tracker.info.attempts = job.attemptsStarted;
    tracker.info.stalls = job.stalledCounter;
    tracker.info.worker = job.processedBy ?? null;
    if (job.returnvalue !== null && job.returnvalue !== undefined) {
      let result: unknown;
      try {
        result = openResult(tracker.secret, tracker.place, job.returnvalue);
      } catch (error) {
        tracker.settle({ error });
        return;
      }
      tracker.settle({ result });
      return;
    }
    const reason = job.failedReason ?? '';
    if (reason === 'job stalled more than allowable limit') {
      tracker.settle({ error: refusal('ERR_REMOTE_STALLED', `job ${tracker.jobId} stalled ${job.stalledCounter} times ` +
        '(its worker died or froze while running it), more than the workers\' maxStalledCount') });
      return;
    }
    const stacks = job.stacktrace ?? [];
    tracker.settle({ error: decodeError(reason, stacks[stacks.length - 1] ?? undefined) });
  }

  /** Follows `tracker`'s job on this link. */
  use(tracker: Tracker): void {
    clearTimeout(this.#idle);
    this.jobs.set(tracker.jobId, tracker);
  }

  /** The job has ended. A link left unused closes after a while: reopening costs milliseconds. */
  drop(tracker: Tracker): void {
    this.jobs.delete(tracker.jobId);
    if (this.jobs.size === 0) this.#idle = setTimeout(() => { this.close(); }, LINK_IDLE_MS).unref();
  }

  /** Gives up on this connection (an enqueue timed out): enqueued jobs are followed on a new one. */
  fail(): void {
    this.close(true);
    for (const tracker of this.jobs.values()) {
      if (!tracker.enqueuedAck || tracker.settled) continue;
      const link = linkFor(this.s, this.queue.name);
      tracker.link = link;
      link.use(tracker);
      void link.ready.then(() => { link.check(tracker.jobId); }, () => {});
    }
  }

  /** Lets go of the connections; `now`: drops them at once (Redis may not be there to say goodbye to). */
  close(now = false): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#poll);
    clearTimeout(this.#idle);
    if (links.get(this.key) === this) links.delete(this.key);
    const all = [this.queue, this.events].filter((c) => c !== null);
    void Promise.all(all.map((c) => (now ? c.disconnect() : c.close()))).catch(() => {});
  }
}

/** A connection's socket must not hold the process open: the threads' native records do (non-daemon ones). */
function unref(client: unknown): void {
  const c = client as { stream?: { unref?: () => void }; on?: (event: string, f: () => void) => void };
  c.stream?.unref?.();
  c.on?.('connect', () => { c.stream?.unref?.(); });
}

const links = new Map<string, Link>();

function linkFor(s: RemoteSettings, queue: string): Link {
  const key = JSON.stringify([s.url, s.prefix, queue]);
  let link = links.get(key);
  if (link === undefined) {
    link = new Link(key, s, queue);
    links.set(key, link);
  }
  return link;
}

/** A started remote thread, as its BackgroundThread sees it. */
export interface RemoteThreadBody {
  readonly ident: number;
  readonly job: RemoteJob;
  /** True until the job's end has been learned (its thread ends on this loop, so joinSync cannot wait). */
  pending(): boolean;
}

/** Jobs not yet taken by Redis, for the warning at exit (process.exit() cannot wait for them). */
const unacknowledged = new Set<Tracker>();
let exitWarning = false;

/**
 * Starts a remote thread: checks what must be checked here (configuration, BullMQ, the module's
 * place under the root, the arguments' cloning), adopts its native record, and enqueues its job.
 * Throws with nothing started.
 */
export function startRemoteThread(ref: ModuleRef, spec: RemoteSpec, start: ModuleThreadStart,
  events: ModuleThreadEvents): RemoteThreadBody {
  const s = settings();
  loadBullmq();
  const module = relativeModule(s.root, ref.url);
  const queue = spec.queue ?? s.queue;
  const jobId = spec.jobId ?? randomUUID();
  const place = { prefix: s.prefix, queue, jobId };
  let data;
  try {
    data = sealJob(s.secret, place, { module, export: ref.exportName, name: start.name, fresh: start.fresh }, start.args, start.kwargs);
  } catch (error) {
    throw Object.assign(argTypeError(`cannot start ${start.name}: the args and kwargs of a remote thread must be ` +
      `serialisable by v8.serialize (${(error as Error)?.message})`, 'ERR_INVALID_ARG_VALUE'), { cause: error });
  }
  const loop = attach();
  const link = linkFor(s, queue);
  const ident = loop.adoptModuleThread(start.name, start.daemon);
  let acknowledge!: (id: string) => void;
  let refuse!: (error: unknown) => void;
  const enqueued = new Promise<string>((resolve, reject) => { acknowledge = resolve; refuse = reject; });
  enqueued.catch(() => {});  // the error goes to the excepthook; awaiting it is optional
  const tracker: Tracker = {
    jobId, link, secret: s.secret, place, enqueuedAck: false, settled: false,
    info: { jobId, queue, attempts: 0, stalls: 0, worker: null, enqueued },
    settle(outcome) {
      if (this.settled) return;
      this.settled = true;
      unacknowledged.delete(this);
      this.link.drop(this);
      if ('error' in outcome) events.onException(outcome.error);
      else events.onResult(outcome.result);
      loop.finishModuleThread(ident);
    },
  };
  if (link.jobs.has(jobId)) {
    loop.dropModuleThread(ident);
    throw argTypeError(`cannot start ${start.name}: job ${jobId} is already a live thread of this process`, 'ERR_INVALID_ARG_VALUE');
  }
  link.use(tracker);
  unacknowledged.add(tracker);
  if (!exitWarning) {
    exitWarning = true;
    process.on('exit', warnUnacknowledged);
  }
  const options: JobsOptions = {
    jobId, attempts: spec.attempts,
    removeOnComplete: { age: 24 * 3600 }, removeOnFail: { age: 7 * 24 * 3600 },
  };
  if (spec.backoff !== undefined) options.backoff = typeof spec.backoff === 'number' ? { type: 'fixed', delay: spec.backoff } : spec.backoff;
  if (spec.priority !== undefined && spec.priority > 0) options.priority = spec.priority;
  if (spec.delay !== undefined) options.delay = spec.delay;
  // Ref'd: every remote thread holds the process open until Redis has its job (or gave up).
  const fail = (cause: unknown): void => {
    if (tracker.settled) return;
    clearTimeout(timer);
    const why = cause === undefined ? `did not take job ${jobId} within ${s.enqueueTimeout} s` : `refused job ${jobId}`;
    const error = new BackgroundThreadError(`cannot enqueue ${start.name}: Redis at ${redactUrl(s.url)} ${why} ` +
      `(${describeCause(cause ?? link.lastError)})`, { code: 'ERR_REMOTE_ENQUEUE', cause: cause ?? link.lastError ?? undefined });
    refuse(error);
    if (cause === undefined) link.fail();  // its offline queue is dropped: the job is not sent later
    tracker.settle({ error });
  };
  const timer = setTimeout(fail, s.enqueueTimeout * 1000);
  void (async () => {
    await link.ready;
    await link.queue.add(start.name, data, options);
  })().then(() => {
    if (tracker.settled) return;
    clearTimeout(timer);
    tracker.enqueuedAck = true;
    unacknowledged.delete(tracker);
    acknowledge(jobId);
    link.check(jobId);  // an existing id may be over already: no event would come
  }, (error: unknown) => { fail(error ?? new Error('queue.add failed')); });
  return { ident, job: tracker.info, pending: () => !tracker.settled };
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
