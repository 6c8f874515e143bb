// The module-level functions of Python's threading and App Engine's background_thread.
import { BackgroundThread, type Target } from './background-thread';
import { isModuleTarget, type ModuleTarget } from './isolated-thread';
import { currentThread } from './context';
import { mainThread, type MainThread } from './main-thread';
import { argTypeError } from './errors';
import { liveThreads } from './loop';
import { settings } from './settings';
import { kIsDaemon } from './symbols';
import * as validate from './validate';

export { currentThread, mainThread };

/** Creates and starts a background thread; returns its ident (the seed's "thread's id"). */
export function startNewBackgroundThread(target: Target | ModuleTarget, args?: Iterable<unknown> | null,
  kwargs?: Record<string, unknown> | null): number {
  if (typeof target !== 'function' && !isModuleTarget(target)) {
    throw argTypeError('The "target" argument must be a function or a module target ' +
      `({ module, export }). ${validate.received(target)}`);
  }
  const thread = new BackgroundThread({ target, args, kwargs });
  thread.start();
  return thread.ident!;
}

/** Live threads of this loop, the main thread first. */
export function enumerate(): Array<BackgroundThread | MainThread> {
  return [mainThread(), ...liveThreads()];
}

export function activeCount(): number {
  return enumerate().length;
}

/**
 * Waits for every live non-daemon thread (but the current one), including threads they start
 * meanwhile. Resolves true when none is left, false when `timeout` seconds pass first.
 */
export async function joinAll(timeout?: number | null): Promise<boolean> {
  const seconds = validate.timeoutSeconds(timeout);
  const deadline = seconds < 0 ? Infinity : performance.now() + seconds * 1000;
  const me = currentThread();
  for (;;) {
    const pending = liveThreads().filter((thread) => !thread[kIsDaemon]() && thread !== me);
    if (pending.length === 0) return true;
    const left = deadline === Infinity ? null : Math.max(deadline - performance.now(), 0) / 1000;
    const ended = await Promise.all(pending.map((thread) => thread.join(left)));
    if (ended.includes(false)) return false;
  }
}

/**
 * Python's threading.stack_size: returns the stack size used for new threads and, given
 * `size`, sets it (0: the platform's default; else 32 KiB to 1 GiB).
 */
export function stackSize(size?: number): number {
  const previous = settings.stackSize;
  if (size !== undefined) settings.stackSize = validate.stackSize(size);
  return previous;
}

/** Caps the live background threads of this event loop (the main thread does not count). */
export function setMaxBackgroundThreads(n: number): void {
  settings.maxBackgroundThreads = validate.threadCount(n, 'n');
}
