// BullMQ, an optional peer dependency: loaded at the first remote start() or startWorker(), by
// the creator's body (src/remote/body.ts) and the worker (src/remote/worker.ts) alike, and the
// raw Redis client under its classes, for the commands its interface does not list. The one place
// that knows BullMQ 5 from 6: 6 keeps the client in a backend (getBackend().client, an ioredis
// client behind a Proxy that forwards what it does not override) where 5 had queue.client, and
// needs ioredis installed beside it (an optional peer of its own; a dependency of 5).
import { BackgroundThreadError } from '../core/errors';

type BullMQ = typeof import('bullmq');
let bullmq: BullMQ | undefined;

/** The BullMQ versions this package supports (package.json's peer range). */
export const SUPPORTED_BULLMQ = '>=5.81.5 <7';

const missing = (what: string, cause: unknown): BackgroundThreadError =>
  new BackgroundThreadError(`remote threads need ${what}`, { code: 'ERR_REMOTE_BULLMQ_MISSING', cause });

/**
 * BullMQ, loaded once; ERR_REMOTE_BULLMQ_MISSING when it is not installed, or is 6 without ioredis
 * (BullMQ would fail only at its first connection, in the background).
 */
export function loadBullmq(): BullMQ {
  if (bullmq !== undefined) return bullmq;
  let loaded: BullMQ;
  try {
    loaded = require('bullmq') as BullMQ;
  } catch (error) {
    throw missing(`BullMQ ${SUPPORTED_BULLMQ}: npm install bullmq`, error);
  }
  try {
    // Resolved as BullMQ's own require('ioredis') resolves it, from its folder.
    require.resolve('ioredis', { paths: [require.resolve('bullmq')] });
  } catch (error) {
    throw missing('ioredis beside BullMQ 6 (an optional peer dependency of BullMQ 6): npm install ioredis', error);
  }
  return (bullmq = loaded);
}

/**
 * The raw ioredis client of a BullMQ queue, worker or queue events (BullMQ's forwards what its
 * interface does not list).
 */
export async function redisClient(of: object): Promise<RawClient> {
  const holder = (of as { getBackend?: () => object }).getBackend?.() ?? of;  // BullMQ 6 : 5
  return await (holder as { client: Promise<unknown> }).client as RawClient;
}

/** What a finished job's hash says, read from Redis's fields (the same in BullMQ 5 and 6). */
export interface FinishedJob {
  /** The return value, JSON-decoded; null when the job failed. */
  returnvalue: unknown;
  failedReason: string;
  /** The stack traces of its attempts that failed, oldest first. */
  stacktrace: string[];
  attemptsStarted: number;
  stalledCounter: number;
  processedBy: string | null;
  /** The other fields asked for, as Redis holds them (undefined when absent). */
  extra: Record<string, string | undefined>;
}

/** A job's state as one read finds it: gone from Redis, not finished yet, or finished. */
export type JobRead = 'gone' | 'running' | FinishedJob;

// Reads many jobs in one step: per key, 0 (no such job), 1 (no finishedOn: waiting, running, or
// put back by a retry or a stall), or the finished job's fields. KEYS: the jobs' hashes; ARGV:
// the fields.
const READ_JOBS = `
local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 0 then out[i] = 0
  elseif redis.call('HEXISTS', key, 'finishedOn') == 0 then out[i] = 1
  else out[i] = redis.call('HMGET', key, unpack(ARGV)) end
end
return out`;

// BullMQ's field names in a job's hash (its Lua scripts write them, in 5 and 6 alike).
const FIELDS = ['returnvalue', 'failedReason', 'stacktrace', 'ats', 'stc', 'pb'];

/** Jobs per READ_JOBS: a script runs alone in Redis, so a long poll is cut into short steps. */
const READ_CHUNK = 500;

/** `json` decoded; `otherwise` when it is not JSON (as BullMQ's Job reads the field). */
const parsed = (json: string | null | undefined, otherwise: unknown): unknown => {
  try {
    return json === null || json === undefined ? null : JSON.parse(json);
  } catch {
    return otherwise;
  }
};

/** A read asked for, until its batch answers. */
interface Due {
  resolve: (read: JobRead) => void;
  reject: (error: unknown) => void;
  promise: Promise<JobRead>;
}

/**
 * Reads jobs' hashes in batches: the reads asked for in one turn of the event loop go to Redis
 * as one script (one round trip per poll or burst of events, not one per job).
 */
export class JobReader {
  #due = new Map<string, Due>();
  #scheduled = false;

  /** `extra`: fields of this package's own to read beside BullMQ's. */
  constructor(readonly client: () => Promise<RawClient>, readonly extra: readonly string[] = []) {}

  /** The job whose hash is at `key`, as the next batch reads it. */
  read(key: string): Promise<JobRead> {
    let due = this.#due.get(key);
    if (due === undefined) {
      let resolve!: (read: JobRead) => void;
      let reject!: (error: unknown) => void;
      const promise = new Promise<JobRead>((res, rej) => { resolve = res; reject = rej; });
      due = { resolve, reject, promise };
      this.#due.set(key, due);
    }
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => { void this.#flush(); });
    }
    return due.promise;
  }

  async #flush(): Promise<void> {
    this.#scheduled = false;
    const batch = [...this.#due];
    this.#due.clear();
    const fields = [...FIELDS, ...this.extra];
    for (let i = 0; i < batch.length; i += READ_CHUNK) {
      const chunk = batch.slice(i, i + READ_CHUNK);
      try {
        const client = await this.client();
        const replies = await client.eval(READ_JOBS, chunk.length, ...chunk.map(([key]) => key),
          ...fields) as (0 | 1 | (string | null)[])[];
        chunk.forEach(([, due], j) => { due.resolve(decoded(replies[j]!, this.extra)); });
      } catch (error) {
        for (const [, due] of chunk) due.reject(error);
      }
    }
  }
}

function decoded(reply: 0 | 1 | (string | null)[], extraFields: readonly string[]): JobRead {
  if (reply === 0) return 'gone';
  if (reply === 1) return 'running';
  const [returnvalue, failedReason, stacktrace, ats, stc, pb, ...rest] = reply;
  const traces = parsed(stacktrace, []);
  return {
    returnvalue: parsed(returnvalue, returnvalue),
    failedReason: failedReason ?? '',
    stacktrace: Array.isArray(traces) ? traces.map(String) : [],
    attemptsStarted: Number.parseInt(ats ?? '0', 10) || 0,
    stalledCounter: Number.parseInt(stc ?? '0', 10) || 0,
    processedBy: pb ?? null,
    extra: Object.fromEntries(extraFields.map((field, k) => [field, rest[k] ?? undefined])),
  };
}

/** The ioredis commands and state this package uses beyond BullMQ's interface. */
export interface RawClient {
  status: string;
  eval(...args: unknown[]): Promise<unknown>;
  xrevrange(...args: unknown[]): Promise<[string, string[]][]>;
  hset(key: string, field: string, value: string): Promise<number>;
  publish(channel: string, message: string): Promise<number>;
  subscribe(channel: string): Promise<unknown>;
  duplicate(): RawClient;
  disconnect(): void;
  on(event: 'message', listener: (channel: string, message: string) => void): void;
  on(event: 'ready', listener: () => void): void;
}
