// BullMQ, an optional peer dependency: loaded at the first remote start() or startWorker(), by
// the creator's body (src/remote/body.ts) and the worker (src/remote/worker.ts) alike, and the
// raw Redis client under its classes, for the commands its interface does not list.
import { BackgroundThreadError } from '../core/errors';

type BullMQ = typeof import('bullmq');
let bullmq: BullMQ | undefined;

/** BullMQ, loaded once; ERR_REMOTE_BULLMQ_MISSING when it is not installed. */
export function loadBullmq(): BullMQ {
  try {
    return (bullmq ??= require('bullmq') as BullMQ);
  } catch (error) {
    throw new BackgroundThreadError('remote threads need BullMQ: npm install bullmq@~5.81',
      { code: 'ERR_REMOTE_BULLMQ_MISSING', cause: error });
  }
}

/**
 * The raw ioredis client of a BullMQ queue or worker (BullMQ's forwards what its interface does not
 * list).
 */
export async function redisClient(of: { client: Promise<unknown> }): Promise<RawClient> {
  return await of.client as RawClient;
}

/** The ioredis commands and state this package uses beyond BullMQ's interface. */
export interface RawClient {
  status: string;
  eval(...args: unknown[]): Promise<unknown>;
  xrevrange(...args: unknown[]): Promise<[string, string[]][]>;
  hset(key: string, field: string, value: string): Promise<number>;
  hgetall(key: string): Promise<Record<string, string>>;
  publish(channel: string, message: string): Promise<number>;
  subscribe(channel: string): Promise<unknown>;
  duplicate(): RawClient;
  disconnect(): void;
  on(event: 'message', listener: (channel: string, message: string) => void): void;
  on(event: 'ready', listener: () => void): void;
}
