// Python's threading.excepthook: where an exception (or rejection) in a thread goes. It never
// reaches 'uncaughtException'/'unhandledRejection' and never changes the exit code.
import { types } from 'node:util';
import type { BackgroundThread } from './background-thread';
import { contextThread } from './context';
import { argTypeError } from '../core/errors';
import { describe } from '../core/thrown';
import { received } from '../core/checks';
import { reportStraysTo } from '../isolate/pool';

/**
 * What the excepthook receives, a frozen object: Python's `exc_type`, `exc_value`,
 * `exc_traceback` and `thread`, in JavaScript's naming.
 */
export interface ExceptHookArgs {
  /**
   * The thrown value's constructor: `Error`, `TypeError`, ...; JavaScript can throw anything, so
   * `Number`, `String`, ... for primitives, and `Object` for null/undefined (or a value whose
   * constructor cannot be read).
   */
  readonly excType: Function;
  /** The thrown value itself (or the rejection's reason). */
  readonly excValue: unknown;
  /** Its stack (a string) when it is an Error; else undefined. */
  readonly excTraceback: string | undefined;
  /**
   * The thread it was thrown in (for a module target, the creator's thread object); the default
   * hook prints `<unknown>` for null.
   */
  readonly thread: BackgroundThread | null;
}

/**
 * A hook for `setExcepthook()`: called with the exception's {@link ExceptHookArgs}, on the event
 * loop of the thread. If it throws, or returns a Promise that rejects,
 * `Exception in threading.excepthook:` and the hook's error are written to stderr instead.
 */
export type ExceptHook = (args: ExceptHookArgs) => void;

function write(text: string): void {
  try { process.stderr.write(text); } catch { /* stderr closed: nowhere left to tell */ }
}

/**
 * The default hook, Python's `threading.__excepthook__`: writes `Exception in thread NAME:` and
 * the error's stack (or `util.inspect` of a non-Error value) to stderr, NAME being the thread's
 * name (`<unknown>` without a thread). It never fails on a closed stderr.
 *
 * @param args - The exception and its thread.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` when `args` is not an object.
 */
export function excepthook(args: ExceptHookArgs): void {
  if (typeof args !== 'object' || args === null) {
    throw argTypeError(`The "args" argument must be an ExceptHookArgs object. ${received(args)}`);
  }
  const thread: unknown = args.thread;
  const name = thread === null || thread === undefined ? '<unknown>' : String((thread as { name?: unknown }).name);
  write(`Exception in thread ${name}:\n${describe(args.excValue)}\n`);
}

let hook: ExceptHook = excepthook;

/**
 * Python's `threading.excepthook = hook`: installs the hook that receives every exception of a
 * thread. An exception thrown by a target (or `run()`), or the rejection of the Promise it
 * returned, is passed to the current hook, never to `uncaughtException` or
 * `unhandledRejection`, and never changes the exit code. So is an exception raised in the
 * thread's async context outside that call, from the first thread's start on: a timer, an
 * immediate or an emitter listener of the target throwing, an unhandled rejection of a Promise
 * created there (even after the thread has ended: its context lives on in what it scheduled).
 * Outside any thread, Node's handling is exactly as without the package.
 *
 * How: Node emits `'uncaughtExceptionMonitor'` while the async context is still the failing
 * callback's; for a thread's error the package then sets a capture callback
 * (`process.setUncaughtExceptionCaptureCallback`) for that one error, so no other listener sees
 * it. Three cases stay the application's: a capture callback the application set itself (the
 * `domain` module, the REPL) receives the error; an `'unhandledRejection'` listener hears a
 * thread's unhandled rejections first (Node asks it before anything else); and under
 * `--unhandled-rejections=warn` or `none` a rejection only warns, as everywhere.
 *
 * If a hook throws, or returns a Promise that rejects, `Exception in threading.excepthook:` and
 * the hook's error are written to stderr instead.
 *
 * @param newHook - The hook, or null to restore the default, {@link excepthook}.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` when `newHook` is neither a function nor null.
 * @example
 * ```js
 * setExcepthook(({ excType, excValue, thread }) => {
 *   console.log(`${thread.name} failed with ${excType.name}: ${excValue?.message ?? excValue}`);
 * });
 * startNewBackgroundThread(() => { throw new TypeError('bad input'); });
 * startNewBackgroundThread(async () => { throw 42; });
 * // Thread-1 failed with TypeError: bad input
 * // Thread-2 failed with Number: 42
 * ```
 */
export function setExcepthook(newHook: ExceptHook | null): void {
  if (newHook === null) {
    hook = excepthook;
    return;
  }
  if (typeof newHook !== 'function') {
    throw argTypeError(`The "hook" argument must be a function or null. ${received(newHook)}`);
  }
  hook = newHook;
}

/**
 * Python's `threading.excepthook`, read.
 *
 * @returns The current hook: the one `setExcepthook()` installed, else {@link excepthook}.
 */
export function getExcepthook(): ExceptHook {
  return hook;
}

function typeOf(value: unknown): Function {
  if (value === null || value === undefined) return Object;
  try {
    const type = (Object(value) as { constructor?: unknown }).constructor;
    return typeof type === 'function' ? type : Object;
  } catch {
    return Object;
  }
}

const promiseThen = Promise.prototype.then;

function hookFailed(error: unknown): void {
  write(`Exception in threading.excepthook:\n${describe(error)}\n`);
}

/** Hands an exception raised in `thread` to the hook. Never throws. */
export function reportException(thread: BackgroundThread | null, error: unknown): void {
  let excTraceback: string | undefined;
  try {
    excTraceback = error instanceof Error ? error.stack : undefined;
  } catch { /* a throwing stack getter */ }
  const args: ExceptHookArgs = Object.freeze({ excType: typeOf(error), excValue: error,
    excTraceback, thread });
  try {
    const result: unknown = hook(args);
    // An async hook's rejection must not become an unhandledRejection either. The intrinsic
    // `then`: the result's own `then`/`catch` may be anything.
    if (types.isPromise(result)) promiseThen.call(result, undefined, hookFailed);
  } catch (hookError) {
    hookFailed(hookError);
  }
}

let routing = false;

/**
 * From the first thread's start on: an exception raised in a thread's context outside its target's
 * own call (a timer, an immediate, an emitter's listener, an unhandled rejection of a Promise made
 * there) goes to the excepthook with that thread, and the process goes on, as with an exception
 * of the target itself. Outside any thread nothing changes.
 *
 * The public mechanism: Node emits 'uncaughtExceptionMonitor' while the async context is still
 * the throwing callback's (or, for a rejection, the Promise's), then hands the error to the
 * capture callback if one is set, else to 'uncaughtException' listeners, else ends the process.
 * For a thread's error the monitor sets a capture callback for this one error, so that Node
 * counts it as handled and no listener sees it. A capture callback the application set itself
 * (the domain module, the REPL) is left alone and receives the error. Unhandled rejections get
 * here only in the 'throw' and 'strict' modes of --unhandled-rejections, and only when no
 * 'unhandledRejection' listener handled them first.
 */
export function routeThreadErrorsToExcepthook(): void {
  if (routing) return;
  routing = true;
  process.on('uncaughtExceptionMonitor', () => {
    const thread = contextThread();
    if (thread === undefined || process.hasUncaughtExceptionCaptureCallback()) return;
    process.setUncaughtExceptionCaptureCallback((error) => {
      process.setUncaughtExceptionCaptureCallback(null);
      reportException(thread, error);
    });
  });
}

// An error an isolate reports for a thread that has ended and been let go of (src/isolate/pool.ts).
reportStraysTo((error) => { reportException(null, error); });
