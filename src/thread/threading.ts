// The module-level functions of Python's threading and App Engine's background_thread.
import { BackgroundThread } from './background-thread';
import { isModuleTarget, type ModuleTarget } from './module-target';
import { currentThread } from './context';
import { mainThread, type MainThread } from './main-thread';
import { argTypeError } from '../core/errors';
import { configurePool, isolatesHolding, poolCounts, poolPolicy, type PoolPolicy } from '../isolate/pool';
import { poolTimes, type TimeSummary } from '../isolate/stats';
import { liveThreads } from '../native/loop';
import type { Target } from './options';
import { checkStackSize, settings } from './settings';
import { kIsDaemon } from '../core/symbols';
import { within } from '../core/within';
import * as check from '../core/checks';

export { currentThread, mainThread };

/**
 * App Engine's `start_new_background_thread` (also exported under that name): creates a
 * BackgroundThread with that target, arguments and keyword object, starts it and returns its
 * ident (App Engine's "thread's id"). The name is automatic, and the daemon flag inherited as in
 * the constructor.
 *
 * @param target - Required: a function or a {@link ModuleTarget}. Anything else, null and
 *   undefined included, throws a TypeError (`ERR_INVALID_ARG_TYPE`).
 * @param args - The target's positional arguments: any iterable (see `BackgroundThreadOptions`).
 * @param kwargs - An object passed to the target as one trailing argument.
 * @returns The thread's `ident`.
 * @throws What `new BackgroundThread()` and `start()` throw, with the same codes.
 * @example
 * ```js
 * const ident = startNewBackgroundThread((a, b) => console.log('sum', a + b), [1, 2]);
 * ```
 */
export function startNewBackgroundThread(target: Target | ModuleTarget,
  args?: Iterable<unknown> | null, kwargs?: Record<string, unknown> | null): number {
  if (typeof target !== 'function' && !isModuleTarget(target)) {
    throw argTypeError('The "target" argument must be a function or a module target ' +
      `({ module, export }). ${check.received(target)}`);
  }
  const thread = new BackgroundThread({ target, args, kwargs });
  thread.start();
  return thread.ident!;
}

/**
 * Python's `threading.enumerate()`.
 *
 * @returns The live threads of this event loop: the main thread first, then the background
 *   threads (daemon ones and module targets included) in start order.
 */
export function enumerate(): Array<BackgroundThread | MainThread> {
  return [mainThread(), ...liveThreads()];
}

/**
 * Python's `threading.active_count()`.
 *
 * @returns `enumerate().length`: the live threads of this event loop, the main thread included.
 */
export function activeCount(): number {
  return enumerate().length;
}

/**
 * Waits for every live non-daemon thread of this event loop except the current one, including
 * threads they start meanwhile, and the non-daemon threads that module targets' exports started
 * and left running in their isolates (see the README's Module targets). Python has no such
 * function: it is what Python's interpreter does at shutdown, made explicit and given a timeout.
 * Errors come back as a rejected Promise.
 *
 * @param timeout - Seconds (floating point) for the whole wait. `undefined`, `null` or
 *   `Infinity`: wait forever; negative: 0, a poll.
 * @returns A Promise of `true` when no such thread is left, `false` when `timeout` seconds pass
 *   first.
 * @throws {TypeError} As a rejection: `ERR_INVALID_ARG_TYPE` when `timeout` is not a number or
 *   null.
 * @throws {RangeError} As a rejection: `ERR_OUT_OF_RANGE` when `timeout` is NaN.
 * @example
 * ```js
 * // Python's shutdown on a signal: drain the non-daemon threads first.
 * process.on('SIGTERM', async () => { await joinAll(); process.exit(0); });
 * ```
 */
export async function joinAll(timeout?: number | null): Promise<boolean> {
  const seconds = check.timeoutSeconds(timeout);
  const deadline = seconds < 0 ? Infinity : performance.now() + seconds * 1000;
  const me = currentThread();
  for (;;) {
    const pending = liveThreads().filter((thread) => !thread[kIsDaemon]() && thread !== me);
    const held = isolatesHolding();
    if (pending.length === 0 && held === null) return true;
    const left = deadline === Infinity ? null : Math.max(deadline - performance.now(), 0) / 1000;
    const ends = pending.map((thread) => thread.join(left));
    if (held !== null) ends.push(within(held, left));
    if ((await Promise.all(ends)).includes(false)) return false;
  }
}

/**
 * Python's `threading.stack_size([size])`: the stack size of the native threads started from
 * now on whose `stackSize` option is omitted, null or 0, per event loop. Function targets run on
 * the event loop, so this sizes the native thread that waits for them, not the stack JavaScript
 * runs on; module targets do not use it (Node sizes a Worker's stack).
 *
 * @param size - Bytes: `0`, the platform's default (on Linux, libuv uses `RLIMIT_STACK`, usually
 *   8 MiB), or an integer from 32768 (32 KiB) to 1073741824 (1 GiB). Omitted: nothing is set.
 * @returns The stack size in use before the call.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` when `size` is given and not a number.
 * @throws {RangeError} `ERR_OUT_OF_RANGE` when `size` is negative, NaN, fractional, or outside
 *   32 KiB to 1 GiB (and not 0).
 */
export function stackSize(size?: number): number {
  const previous = settings.stackSize;
  if (size !== undefined) settings.stackSize = checkStackSize(size);
  return previous;
}

/**
 * Caps the live background threads of this event loop (the main thread does not count; module
 * targets do). Over the cap, `start()` throws a BackgroundThreadLimitReachedError
 * (`ERR_THREAD_LIMIT_REACHED`), as App Engine raised it when an instance could start no more
 * background threads. Threads already running are not affected.
 *
 * @param n - A non-negative integer, or `Infinity` (the default).
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` when `n` is not a number.
 * @throws {RangeError} `ERR_OUT_OF_RANGE` when `n` is negative, fractional or NaN.
 * @example
 * ```js
 * setMaxBackgroundThreads(1);
 * first.start();
 * try { second.start(); } catch (error) {
 *   console.log(error instanceof BackgroundThreadLimitReachedError, error.code);
 *   // true ERR_THREAD_LIMIT_REACHED
 * }
 * await first.join();
 * second.start();                         // fine now
 * ```
 */
export function setMaxBackgroundThreads(n: number): void {
  settings.maxBackgroundThreads = check.threadCount(n, 'n');
}

/** What `setIsolatePool()` takes: each key optional, the others keep their value. */
export interface IsolatePoolOptions {
  /**
   * Idle isolates kept without a time limit (they hold nothing open): a non-negative integer or
   * Infinity. Default: `os.availableParallelism()`.
   */
  maxIdle?: number;
  /**
   * Seconds an idle isolate beyond `maxIdle` (one a burst left) is kept unused before it is ended,
   * least recently used first: a number >= 0, or Infinity. Default 10.
   */
  idleTimeout?: number;
  /**
   * Isolates at most (running a thread or idle; fresh isolates not counted): a positive integer or
   * Infinity (the default). Past it a module thread's `start()` returns with the thread queued,
   * as a thread pool queues: it is alive (`isAlive()`, `join()` waits) but runs only once an
   * isolate is free, `nativeId` is null until then, and `joinSync()` throws
   * `ERR_JOIN_WOULD_DEADLOCK` meanwhile. Lowered below the isolates there are, it ends the idle
   * ones beyond it at once and busy ones as their threads end, until the cap holds.
   */
  maxIsolates?: number;
}

/** The pool's settings and what it holds now. */
export interface IsolatePoolState extends Required<IsolatePoolOptions> {
  /** Warm isolates waiting for a thread. */
  idle: number;
  /** Warm isolates running a thread. */
  busy: number;
  /** Module threads waiting for an isolate (only with `maxIsolates`). */
  waiting: number;
  /**
   * How long the recent module threads ran, in milliseconds: from the moment an isolate was
   * handed the run to the moment its end reached this loop (a new isolate boots meanwhile: a cold
   * start counts here). Over the last 1,000 module threads of this loop that ended, warm and
   * fresh, whatever their end (a result, an exception, an isolate that died).
   */
  runTime: TimeSummary;
  /**
   * How long the same threads waited, in milliseconds: from `start()` until an isolate was handed
   * the run; near 0 with an idle isolate or room for a new one, the time queued under
   * `maxIsolates` else.
   */
  waitTime: TimeSummary;
}

const POOL_KEYS = new Set(['maxIdle', 'idleTimeout', 'maxIsolates']);

/**
 * Sets how this event loop keeps the isolates of module targets (see the README: Module
 * targets). Idle isolates beyond new limits are ended at once, or when their timeout passes;
 * threads waiting under a raised `maxIsolates` start at once.
 *
 * @param options - `maxIdle`, `idleTimeout`, `maxIsolates`; omitted keys keep their value.
 * @returns The settings now in force, with the pool's counts.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` when `options` is not an object or a value not a
 *   number; `ERR_INVALID_ARG_VALUE` for an unknown key.
 * @throws {RangeError} `ERR_OUT_OF_RANGE` for a value out of its range.
 */
export function setIsolatePool(options: IsolatePoolOptions): IsolatePoolState {
  if (typeof options !== 'object' || options === null) {
    throw argTypeError(`The "options" argument must be an object. ${check.received(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!POOL_KEYS.has(key)) throw argTypeError(`Unknown isolate pool option "${key}"`, 'ERR_INVALID_ARG_VALUE');
  }
  const { maxIdle, idleTimeout, maxIsolates } = options;
  const changes: Partial<PoolPolicy> = {};
  if (maxIdle !== undefined) changes.maxIdle = check.threadCount(maxIdle, 'maxIdle');
  if (idleTimeout !== undefined) changes.idleTimeout = check.seconds(idleTimeout, 'idleTimeout');
  if (maxIsolates !== undefined) changes.maxIsolates = check.threadCount(maxIsolates, 'maxIsolates', 1);
  configurePool(changes);
  return isolatePool();
}

/**
 * This event loop's isolate pool: its settings (`setIsolatePool()`), its counts now, and the run
 * and wait times of its recent module threads (computed at the call: call it as often as you
 * like, it costs a sort of at most 1,000 numbers each).
 *
 * @example
 * ```js
 * const { busy, waiting, runTime, waitTime } = isolatePool();
 * console.log(`${busy} busy, ${waiting} queued`);
 * console.log(`p99: run ${runTime.p99} ms, wait ${waitTime.p99} ms`);
 * ```
 */
export function isolatePool(): IsolatePoolState {
  return { ...poolPolicy, ...poolCounts(), ...poolTimes() };
}
