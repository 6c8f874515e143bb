// Python's threading.excepthook: where an exception (or rejection) in a thread goes. It never
// reaches 'uncaughtException'/'unhandledRejection' and never changes the exit code.
import { inspect, types } from 'node:util';
import type { BackgroundThread } from './background-thread';
import { contextThread } from './context';
import { argTypeError } from './errors';
import { received } from './validate';

export interface ExceptHookArgs {
  /** The thrown value's constructor (String, Number, ... for primitives; Object for null/undefined). */
  readonly excType: Function;
  readonly excValue: unknown;
  /** The stack, when the value is an Error. */
  readonly excTraceback: string | undefined;
  readonly thread: BackgroundThread | null;
}

export type ExceptHook = (args: ExceptHookArgs) => void;

/** What the default hook prints for a thrown value (the stack for an Error); never throws. */
export function describe(value: unknown): string {
  try {
    if (value instanceof Error) return value.stack ?? String(value);
    return inspect(value);
  } catch {
    return '<exception that cannot be printed>';
  }
}

function write(text: string): void {
  try { process.stderr.write(text); } catch { /* stderr closed: nowhere left to tell */ }
}

/** Writes `Exception in thread NAME:` and the stack to stderr. */
export function excepthook(args: ExceptHookArgs): void {
  if (typeof args !== 'object' || args === null) {
    throw argTypeError(`The "args" argument must be an ExceptHookArgs object. ${received(args)}`);
  }
  const thread: unknown = args.thread;
  const name = thread === null || thread === undefined ? '<unknown>' : String((thread as { name?: unknown }).name);
  write(`Exception in thread ${name}:\n${describe(args.excValue)}\n`);
}

let hook: ExceptHook = excepthook;

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
  const args: ExceptHookArgs = Object.freeze({ excType: typeOf(error), excValue: error, excTraceback, thread });
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
