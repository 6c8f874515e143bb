// Remote threads' configuration: configureRemote() and its environment variables, and the checks of
// a thread's own `remote` job options. Light on purpose: every isolate loads it; the machinery
// (src/remote/body.ts, BullMQ) is loaded at the first remote start().
import { BackgroundThreadError, argRangeError, argTypeError } from '../core/errors';
import { integerOption, received, secondsOption, textOption } from '../core/checks';

/** `configureRemote()`'s options; each falls back to its environment variable. */
export interface RemoteConfig {
  /**
   * The Redis server: `redis://[user:password@]host[:port][/db]` (an IPv6 host in brackets:
   * `redis://[::1]:6379`), `rediss://…` (TLS), or the path of a unix socket. Env
   * `BACKGROUND_THREAD_REMOTE`. None: a remote `start()` throws `ERR_REMOTE_NOT_CONFIGURED`; a
   * redis:// URL that does not parse: `ERR_INVALID_ARG_VALUE`. Printed with its password as `***`.
   */
  url?: string;
  /**
   * The BullMQ queue of threads without their own `remote.queue`. Env
   * `BACKGROUND_THREAD_REMOTE_QUEUE`; default `background-thread`.
   */
  queue?: string;
  /**
   * The folder module paths are relative to, here and on the workers (each job names its module
   * by its path under the root). Env `BACKGROUND_THREAD_REMOTE_ROOT`; default `process.cwd()`.
   */
  root?: string;
  /**
   * The secret jobs and results are sealed with (AES-256-GCM, a key per job derived from it), 16
   * characters or more, shared with the workers. Env `BACKGROUND_THREAD_REMOTE_SECRET`.
   */
  secret?: string;
  /**
   * Seconds to wait for Redis to take a job; default 10. Past it, a job that certainly never
   * reached Redis (never sent, or still queued on a connection that is down) ends its thread with
   * `ERR_REMOTE_ENQUEUE` at once; one whose add may have reached Redis is withdrawn once Redis
   * answers (the thread then ends with `ERR_REMOTE_ENQUEUE`, and the job never runs), or, if a
   * worker has begun it already, followed to its end. An `ERR_REMOTE_ENQUEUE` thread's job never
   * runs. Also how long `remoteQueueCounts()` waits for Redis's answer (`ERR_REMOTE_UNAVAILABLE`).
   */
  enqueueTimeout?: number;
  /** Seconds between polls of pending jobs' states, the safety net under the events; default 5. */
  pollInterval?: number;
  /** BullMQ's key prefix; default `bull`. */
  prefix?: string;
}

/** A thread's own job options: `target: { module, export, remote: true | RemoteJobOptions }`. */
export interface RemoteJobOptions {
  /** The queue; default the configured one. */
  queue?: string;
  /**
   * How many times the job may run when it throws; default 1 (a thread that threw has ended, as in
   * Python).
   */
  attempts?: number;
  /**
   * Milliseconds between attempts (fixed), or BullMQ's `{ type: 'fixed' | 'exponential', delay }`.
   */
  backoff?: number | { type: 'fixed' | 'exponential'; delay: number };
  /** BullMQ's priority: 0 (none, first come first served) or 1 (highest) to 2097152. */
  priority?: number;
  /** Milliseconds before the job may run. */
  delay?: number;
  /**
   * The job id (default a random UUID): a second start with the same id, from any process, is the
   * same job.
   */
  jobId?: string;
}

/** `thread.remote`: what the creator knows of a remote thread's job. */
export interface RemoteJob {
  /** The BullMQ job's id (`remote.jobId`, or a random UUID). */
  readonly jobId: string;
  /** The BullMQ queue it was added to. */
  readonly queue: string;
  /**
   * How many times a worker has taken the job, so far (at-least-once: more than 1 after a stall,
   * a retry, or a worker's refusal that handed it back).
   */
  readonly attempts: number;
  /** How many times the job stalled (its worker died or froze holding it) and was run again. */
  readonly stalls: number;
  /** The BullMQ worker name (`host:pid` by default) that ran it last; null until known. */
  readonly worker: string | null;
  /**
   * Settles when Redis has taken the job (the durability point): resolves to the job id, or
   * rejects with the `ERR_REMOTE_ENQUEUE` error that also went to the excepthook. After an enqueue
   * timeout whose add may have reached Redis, it settles when Redis answers the withdrawal: it
   * rejects (withdrawn), or resolves (a worker had begun the job: the thread follows it).
   */
  readonly enqueued: Promise<string>;
}

export type RemoteSpec = Required<Pick<RemoteJobOptions, 'attempts'>> & Omit<RemoteJobOptions, 'attempts'>;

export interface ResolvedConfig {
  url: string; queue: string; root: string; secret: string; enqueueTimeout: number;
  pollInterval: number; prefix: string;
}

let currentConfig: RemoteConfig = {};



/**
 * `url` as it may be printed: a redis:// URL's credentials replaced by `***` (`redis://user:***@host`,
 * or `redis://***@host` for a user part alone, which some clients read as a password); everything
 * up to the last `@` counts as credentials, so that a malformed URL is redacted too. A unix socket
 * path is printed as it is.
 */
export function redactUrl(url: string): string {
  const credentials = /^(rediss?:\/\/)(.*)@/i.exec(url);
  if (credentials === null) return url;
  const [whole, scheme, userinfo] = credentials as unknown as [string, string, string];
  const colon = userinfo.indexOf(':');
  return `${scheme}${colon === -1 ? '***' : `${userinfo.slice(0, colon)}:***`}@${url.slice(whole.length)}`;
}

/**
 * ioredis options for a URL or a unix socket path (BullMQ makes its connections from them); a
 * TypeError (`ERR_INVALID_ARG_VALUE`) for a redis:// URL that does not parse, naming it redacted.
 */
export function connectionOptions(url: string): Record<string, unknown> {
  if (!/^rediss?:\/\//i.test(url)) return { path: url };
  const bad = (why: string): never => {
    // No cause: Node's ERR_INVALID_URL keeps the URL, password and all, in its `input`.
    throw argTypeError(`The remote URL ${redactUrl(url)} ${why}`, 'ERR_INVALID_ARG_VALUE');
  };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return bad('is not a valid URL (redis://[user:password@]host[:port][/db])');
  }
  // URL.hostname keeps an IPv6 literal's brackets ([::1]); a socket connects to the bare address.
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  const options: Record<string, unknown> = { host, port: Number(parsed.port || 6379) };
  if (parsed.username) options.username = decodeURIComponent(parsed.username);
  if (parsed.password) options.password = decodeURIComponent(parsed.password);
  const db = parsed.pathname.slice(1);
  if (db) {
    if (!/^\d+$/.test(db)) bad(`names database ${JSON.stringify(db)}: a database is a number`);
    options.db = Number(db);
  }
  if (parsed.protocol === 'rediss:') options.tls = {};
  return options;
}

function checkUrl(value: string): string {
  connectionOptions(value);
  return value;
}

function checkSecret(value: string): string {
  if (value.length < 16) {
    throw argRangeError('The remote secret must be 16 characters or more (openssl rand -hex 32 makes one)');
  }
  return value;
}

const CONFIG_KEYS = new Set(['url', 'queue', 'root', 'secret', 'enqueueTimeout', 'pollInterval', 'prefix']);

/**
 * Configures remote threads for this process (keys not given fall back to the environment
 * variables). Applies to remote threads started from now on.
 *
 * @param options - See {@link RemoteConfig}; an unknown key or a bad value throws a TypeError
 *   (`ERR_INVALID_ARG_VALUE`, `ERR_INVALID_ARG_TYPE`) or RangeError (`ERR_OUT_OF_RANGE`) and
 *   changes nothing.
 */
export function configureRemote(options: RemoteConfig): void {
  currentConfig = readConfig(options, 'configureRemote');
}

function readConfig(options: unknown, what: string, keys = CONFIG_KEYS): RemoteConfig {
  if (typeof options !== 'object' || options === null) throw argTypeError(`The "options" argument must be an object. ${received(options)}`);
  const next: RemoteConfig = {};
  for (const key of Object.keys(options)) {
    if (!keys.has(key)) throw argTypeError(`Unknown ${what} option "${key}"`, 'ERR_INVALID_ARG_VALUE');
    const value = (options as Record<string, unknown>)[key];
    if (value === undefined || !CONFIG_KEYS.has(key)) continue;
    if (key === 'enqueueTimeout' || key === 'pollInterval') next[key] = secondsOption(value, key);
    else if (key === 'secret') next.secret = checkSecret(textOption(value, key));
    else if (key === 'url') next.url = checkUrl(textOption(value, key));
    else (next as Record<string, string>)[key] = textOption(value, key);
  }
  return next;
}

/**
 * The configuration in force: `overrides` (a worker's own options, checked as `what`'s, which may
 * have keys of their own, `keys`), then configureRemote()'s, then the environment's. Throws
 * `ERR_REMOTE_NOT_CONFIGURED` without a URL or a secret.
 */
export function resolvedConfig(overrides: object = {}, what = 'configureRemote', keys = CONFIG_KEYS): ResolvedConfig {
  const configured = { ...currentConfig, ...readConfig(overrides, what, keys) };
  const env = process.env;
  const url = configured.url ?? env.BACKGROUND_THREAD_REMOTE;
  if (!url) {
    throw new BackgroundThreadError('remote threads are not configured: call configureRemote({ url, secret }) ' +
      'or set BACKGROUND_THREAD_REMOTE and BACKGROUND_THREAD_REMOTE_SECRET', { code: 'ERR_REMOTE_NOT_CONFIGURED' });
  }
  const secret = configured.secret ?? env.BACKGROUND_THREAD_REMOTE_SECRET;
  if (!secret) {
    throw new BackgroundThreadError('remote threads need a secret to seal jobs with: configureRemote({ secret }) ' +
      'or BACKGROUND_THREAD_REMOTE_SECRET', { code: 'ERR_REMOTE_NOT_CONFIGURED' });
  }
  return {
    url: checkUrl(url), secret: checkSecret(secret),
    queue: configured.queue ?? (env.BACKGROUND_THREAD_REMOTE_QUEUE || 'background-thread'),
    root: configured.root ?? (env.BACKGROUND_THREAD_REMOTE_ROOT || process.cwd()),
    enqueueTimeout: configured.enqueueTimeout ?? 10,
    pollInterval: configured.pollInterval ?? 5,
    prefix: configured.prefix ?? 'bull',
  };
}

const JOB_OPTION_KEYS = new Set(['queue', 'attempts', 'backoff', 'priority', 'delay', 'jobId']);


/** Checks a module target's `remote` (true or RemoteJobOptions); null for false/undefined. */
export function remoteSpec(value: unknown): RemoteSpec | null {
  if (value === undefined || value === false) return null;
  if (value === true) return { attempts: 1 };
  if (typeof value !== 'object' || value === null) {
    throw argTypeError(`The "target.remote" option must be true or an object. ${received(value)}`);
  }
  const spec: RemoteSpec = { attempts: 1 };
  for (const key of Object.keys(value)) {
    if (!JOB_OPTION_KEYS.has(key)) throw argTypeError(`Unknown remote option "${key}"`, 'ERR_INVALID_ARG_VALUE');
  }
  const remote = value as Record<string, unknown>;
  if (remote.queue !== undefined) spec.queue = textOption(remote.queue, 'remote.queue');
  if (remote.attempts !== undefined) {
    spec.attempts = integerOption(remote.attempts, 'remote.attempts', 1, 1e6);
  }
  if (remote.priority !== undefined) {
    spec.priority = integerOption(remote.priority, 'remote.priority', 0, 2097152);
  }
  if (remote.delay !== undefined) spec.delay = integerOption(remote.delay, 'remote.delay', 0, 2 ** 53 - 1);
  if (remote.jobId !== undefined) {
    spec.jobId = textOption(remote.jobId, 'remote.jobId');
    // BullMQ's rules: ':' separates its keys, and an integer id is its own counter's.
    if (spec.jobId.includes(':') || /^\d+$/.test(spec.jobId)) {
      throw argTypeError(`The "remote.jobId" option must not contain ":" nor be an integer. ${received(spec.jobId)}`, 'ERR_INVALID_ARG_VALUE');
    }
  }
  if (remote.backoff !== undefined) {
    const backoff = remote.backoff as { type?: unknown; delay?: unknown } | number;
    if (typeof backoff === 'number') spec.backoff = integerOption(backoff, 'remote.backoff', 0, 2 ** 31);
    else if (typeof backoff === 'object' && backoff !== null &&
      (backoff.type === 'fixed' || backoff.type === 'exponential')) {
      spec.backoff = {
        type: backoff.type, delay: integerOption(backoff.delay, 'remote.backoff.delay', 0, 2 ** 31),
      };
    } else {
      throw argTypeError(`The "remote.backoff" option must be milliseconds or { type: 'fixed' | 'exponential', delay }. ${received(backoff)}`);
    }
  }
  return spec;
}

