// Where a target runs: inside its thread's own async context (so currentThread() follows it
// across awaits), and, for a daemon thread, with everything it opens unref'd.
import { AsyncLocalStorage, createHook, type HookCallbacks } from 'node:async_hooks';
import type { BackgroundThread } from './background-thread';
import { attach } from '../native/loop';
import { mainThread, type MainThread } from './main-thread';

// The daemon flag is kept beside the thread, as read at start(): a subclass's `daemon` getter is
// never called from a hook.
interface ThreadContext { readonly thread: BackgroundThread; readonly daemon: boolean }
const threadContext = new AsyncLocalStorage<ThreadContext>();

/** Runs fn as `thread`: currentThread() answers `thread` in it and in all it schedules. */
export function runInThread<T>(thread: BackgroundThread, daemon: boolean, fn: () => T): T {
  return threadContext.run({ thread, daemon }, fn);
}

/** Runs fn outside every thread's context: what it schedules is the creator's (event listeners). */
export function outsideThreads<T>(fn: () => T): T {
  return threadContext.exit(fn);
}

/**
 * Python's `threading.current_thread()`.
 *
 * @returns The thread whose target is running, followed across `await`, timers and other
 *   callbacks the target schedules (the thread's own async context, not the creator's); the main
 *   thread (`mainThread()`) outside any target. In a module target's module: that thread.
 * @example
 * ```js
 * async function sendReport(userId) {
 *   const me = currentThread();   // this BackgroundThread, also after an await
 *   await sleep(100);
 *   console.log(`${me.name}: report ${userId} sent`);
 * }
 * ```
 */
export function currentThread(): BackgroundThread | MainThread {
  return threadContext.getStore()?.thread ?? mainThread();
}

/** The BackgroundThread whose async context this is, if any. */
export function contextThread(): BackgroundThread | undefined {
  return threadContext.getStore()?.thread;
}

/** Whether the current thread is a daemon thread (what new threads inherit). */
export function currentIsDaemon(): boolean {
  return threadContext.getStore()?.daemon ?? mainThread().isDaemon();
}

// A daemon thread must never hold the process open, nor may what its target opens. Resources
// created in a daemon thread's context that can be unref'd (timers, immediates, sockets,
// servers, child processes) are unref'd right after creation; requests that cannot be (a file
// read in flight) finish first. The hook costs something on every async resource (promises
// too), so it is enabled only once the first daemon thread starts; it then stays enabled,
// because a daemon's context lives on in what its target scheduled (a setImmediate chain, say)
// after the thread itself has ended.

// An unref'd immediate does not keep libuv's poll from blocking: while anything else holds the
// loop open (a pending join(), a server, another thread), a daemon thread that yields with
// setImmediate would wait for that something's next event. So while a daemon thread's
// immediates are pending, the loop polls without blocking, as Node does for ref'd immediates,
// and still holds nothing open. `_destroyed` is set by Node once an immediate ran or was cleared.
const daemonImmediates = new Set<{ _destroyed?: boolean }>();
let sweeping = false;

function sweepImmediates(): void {
  for (const immediate of daemonImmediates) {
    if (immediate._destroyed !== false) daemonImmediates.delete(immediate);
  }
  sweeping = daemonImmediates.size > 0;
  if (sweeping) {
    // Runs after the immediates queued before it: once per loop turn while any is pending.
    threadContext.exit(() => setImmediate(sweepImmediates).unref());
  } else {
    attach().pollWithoutBlocking(false);
  }
}

interface Unrefable { unref(): unknown }
let toUnref: Unrefable[] = [];

function unrefPending(): void {
  const resources = toUnref;
  toUnref = [];
  for (const resource of resources) {
    try { resource.unref(); } catch { /* closed meanwhile */ }
  }
  if (!sweeping && daemonImmediates.size > 0) {
    sweeping = true;
    attach().pollWithoutBlocking(true);
    threadContext.exit(() => setImmediate(sweepImmediates).unref());
  }
}

// A promise has no unref(), so the hook never needs to see one: `trackPromises: false` keeps
// Node from installing a V8 promise hook for it, which would slow every promise in the process
// (2-4x on promise-heavy code). Node 24.14+ and 26 honour it; older Node ignores the key and still
// calls the hook for each promise (the README gives the figures per version).
const daemonHook = createHook({
  init(_asyncId, type, _triggerAsyncId, resource: Partial<Unrefable>) {
    if (threadContext.getStore()?.daemon !== true || typeof resource.unref !== 'function') return;
    // Deferred to a microtask: an Immediate refs itself after this hook returns. Microtasks
    // run before control returns to the loop, so the loop never sees it ref'd.
    if (toUnref.push(resource as Unrefable) === 1) queueMicrotask(unrefPending);
    if (type === 'Immediate') daemonImmediates.add(resource as { _destroyed?: boolean });
  },
  trackPromises: false,
} as HookCallbacks & { trackPromises: boolean });

let hookEnabled = false;

export function daemonThreadStarted(): void {
  if (!hookEnabled) {
    daemonHook.enable();
    hookEnabled = true;
  }
}
