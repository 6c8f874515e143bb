// The package's error classes and the typed argument errors, each with a stable `code`.

/** The second argument of the package's error constructors. */
export interface ErrorDetails {
  /** Stable, machine-readable: switch on it rather than on the message. Default: the class's. */
  code?: string;
  /** The error's `cause` (as in `new Error(message, { cause })`), set when the key is present. */
  cause?: unknown;
}

/**
 * Base class of the errors App Engine's background_thread module raised: its
 * `background_thread.Error`, also exported as `Error` (importing it by that name shadows the global
 * `Error` in your module; `.name` is `BackgroundThreadError` either way). Default `code`
 * `ERR_BACKGROUND_THREAD`; thrown as `ERR_THREAD_START_FAILED` (`start()`) and reported as
 * `ERR_MODULE_TARGET_LOAD` (a module target's module cannot be loaded). Like every error of the
 * package it has a `.name` and a stable `.code`: switch on `code`, not on the message.
 */
export class BackgroundThreadError extends Error {
  /** Stable and machine-readable: `ERR_BACKGROUND_THREAD` unless given. */
  readonly code: string;
  /**
   * Creates the error, with `code` `ERR_BACKGROUND_THREAD` unless `details` gives another.
   *
   * @param message - The message; default `''`.
   * @param details - The `code` and the `cause`.
   */
  constructor(message = '', details: ErrorDetails = {}) {
    super(message, 'cause' in details ? { cause: details.cause } : undefined);
    this.code = details.code ?? 'ERR_BACKGROUND_THREAD';
  }
}

/**
 * No more background threads can start, App Engine's error of that name: `start()` throws it with
 * `code` `ERR_THREAD_LIMIT_REACHED` (the cap of `setMaxBackgroundThreads()`), or
 * `ERR_THREAD_RESOURCES_EXHAUSTED` (the OS refused a thread, `EAGAIN`; `error.cause` is the
 * addon's error, with libuv's `code` and `errno`). A BackgroundThreadError.
 */
export class BackgroundThreadLimitReachedError extends BackgroundThreadError {
  /**
   * Creates the error, with `code` `ERR_THREAD_LIMIT_REACHED` unless `details` gives another.
   *
   * @param message - The message; default `''`.
   * @param details - The `code` and the `cause`.
   */
  constructor(message = '', details: ErrorDetails = {}) {
    super(message, { ...details, code: details.code ?? 'ERR_THREAD_LIMIT_REACHED' });
  }
}

/**
 * Parity with App Engine's module, which raised it on App Engine frontends; never thrown here.
 * Default `code` `ERR_FRONTENDS_NOT_SUPPORTED`. A BackgroundThreadError.
 */
export class FrontendsNotSupported extends BackgroundThreadError {
  /**
   * Creates the error, with `code` `ERR_FRONTENDS_NOT_SUPPORTED` unless `details` gives another.
   *
   * @param message - The message; default `''`.
   * @param details - The `code` and the `cause`.
   */
  constructor(message = '', details: ErrorDetails = {}) {
    super(message, { ...details, code: details.code ?? 'ERR_FRONTENDS_NOT_SUPPORTED' });
  }
}

/**
 * A cancelled thread's exception (`thread.cancel(reason)`, or the `signal` option's abort), and
 * the reason its `currentThread().signal` aborts with: `.name` `AbortError`, as an aborted
 * `fetch()` or stream names its error, so code that checks for an abort recognises it; `code`
 * `ERR_THREAD_CANCELLED`; `cause` the reason given (absent when none was). A BackgroundThreadError.
 */
export class ThreadCancelledError extends BackgroundThreadError {
  /**
   * Creates the error, with `code` `ERR_THREAD_CANCELLED` unless `details` gives another.
   *
   * @param message - The message; default `''`.
   * @param details - The `code` and the `cause` (the cancellation's reason).
   */
  constructor(message = '', details: ErrorDetails = {}) {
    super(message, { ...details, code: details.code ?? 'ERR_THREAD_CANCELLED' });
  }
}

/** The error a cancelled thread ends with; `reason` (when given) its cause. */
export function cancelledError(name: string, reason: unknown,
  given: boolean): ThreadCancelledError {
  return new ThreadCancelledError(`${name} was cancelled`, given ? { cause: reason } : {});
}

/**
 * Python's RuntimeError: an operation that the thread's state does not allow. Not a
 * BackgroundThreadError, as in Python. Default `code` `ERR_RUNTIME`; thrown with
 * `ERR_THREAD_ALREADY_STARTED`, `ERR_THREAD_NOT_STARTED`, `ERR_JOIN_CURRENT_THREAD`,
 * `ERR_THREAD_ACTIVE`, `ERR_JOIN_WOULD_DEADLOCK` and `ERR_MODULE_TARGET_RUN`.
 */
export class RuntimeError extends Error {
  /** Stable and machine-readable: `ERR_RUNTIME` unless given. */
  readonly code: string;
  /**
   * Creates the error, with `code` `ERR_RUNTIME` unless `details` gives another.
   *
   * @param message - The message; default `''`.
   * @param details - The `code` and the `cause`.
   */
  constructor(message = '', details: ErrorDetails = {}) {
    super(message, 'cause' in details ? { cause: details.cause } : undefined);
    this.code = details.code ?? 'ERR_RUNTIME';
  }
}

// Names spelled out, not read from `errorClass.name`: a bundler may rename the classes
// (esbuild's BackgroundThreadError2, a minifier's single letters).
for (const [name, errorClass] of [['BackgroundThreadError', BackgroundThreadError],
  ['BackgroundThreadLimitReachedError', BackgroundThreadLimitReachedError],
  ['FrontendsNotSupported', FrontendsNotSupported], ['RuntimeError', RuntimeError],
  ['AbortError', ThreadCancelledError]] as const) {
  Object.defineProperty(errorClass.prototype, 'name', {
    value: name, writable: true, configurable: true, enumerable: false,
  });
}

export type CodedError<E extends Error> = E & { code: string };

function withCode<E extends Error>(error: E, code: string): CodedError<E> {
  return Object.assign(error, { code });
}

/** A value of the wrong type: `code` ERR_INVALID_ARG_TYPE (or the one given). */
export function argTypeError(message: string, code = 'ERR_INVALID_ARG_TYPE'): CodedError<TypeError> {
  return withCode(new TypeError(message), code);
}

/** A number outside what the argument accepts: `code` ERR_OUT_OF_RANGE. */
export function argRangeError(message: string): CodedError<RangeError> {
  return withCode(new RangeError(message), 'ERR_OUT_OF_RANGE');
}

// The errors of a thread's state and of start(), one factory each: both thread classes and the
// module functions throw them.

export function alreadyStartedError(): RuntimeError {
  return new RuntimeError('threads can only be started once', { code: 'ERR_THREAD_ALREADY_STARTED' });
}

export function notStartedError(): RuntimeError {
  return new RuntimeError('cannot join thread before it is started', { code: 'ERR_THREAD_NOT_STARTED' });
}

export function activeDaemonError(): RuntimeError {
  return new RuntimeError('cannot set daemon status of active thread', { code: 'ERR_THREAD_ACTIVE' });
}

export function joinCurrentError(): RuntimeError {
  return new RuntimeError('cannot join current thread', { code: 'ERR_JOIN_CURRENT_THREAD' });
}

/** joinSync() of a thread whose end needs this event loop: `why` it does. */
export function joinWouldDeadlockError(name: string, why: string): RuntimeError {
  return new RuntimeError(`cannot joinSync ${name}: ${why}; use await join() instead`,
    { code: 'ERR_JOIN_WOULD_DEADLOCK' });
}

/** Python's AssertionError for a `group`; node:assert is loaded only then (it costs milliseconds
 * in each new isolate, and every module target's Worker loads this package). */
export function groupError(): Error {
  const { AssertionError } = require('node:assert') as typeof import('node:assert');
  return new AssertionError({ message: 'group argument must be None for now' });
}

/** The cap of setMaxBackgroundThreads() is reached. */
export function threadCapError(name: string, alive: number): BackgroundThreadLimitReachedError {
  return new BackgroundThreadLimitReachedError(
    `cannot start ${name}: ${alive} background threads are alive, the limit set with setMaxBackgroundThreads()`);
}

/**
 * The OS (or Node, for a Worker) refused the thread: EAGAIN is the limit error, anything else a
 * start error.
 */
export function startFailedError(name: string, error: unknown): BackgroundThreadError {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'EAGAIN') {
    return new BackgroundThreadLimitReachedError(
      `cannot start ${name}: the operating system refused a new thread (EAGAIN: out of threads or memory)`,
      { code: 'ERR_THREAD_RESOURCES_EXHAUSTED', cause: error });
  }
  return new BackgroundThreadError(`cannot start ${name}: ${(error as Error)?.message}`,
    { code: 'ERR_THREAD_START_FAILED', cause: error });
}
