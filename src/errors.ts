// The package's error classes and the typed argument errors, each with a stable `code`.

export interface ErrorDetails {
  /** Stable, machine-readable: switch on it rather than on the message. */
  code?: string;
  cause?: unknown;
}

/** Base class of the errors the seed module raised (`background_thread.Error`). */
export class BackgroundThreadError extends Error {
  readonly code: string;
  constructor(message = '', details: ErrorDetails = {}) {
    super(message, 'cause' in details ? { cause: details.cause } : undefined);
    this.code = details.code ?? 'ERR_BACKGROUND_THREAD';
  }
}

/** No more background threads can start: the cap of setMaxBackgroundThreads(), or the OS. */
export class BackgroundThreadLimitReachedError extends BackgroundThreadError {
  constructor(message = '', details: ErrorDetails = {}) {
    super(message, { code: 'ERR_THREAD_LIMIT_REACHED', ...details });
  }
}

/** Parity with the seed module, which raised it on App Engine frontends. Never thrown here. */
export class FrontendsNotSupported extends BackgroundThreadError {
  constructor(message = '', details: ErrorDetails = {}) {
    super(message, { code: 'ERR_FRONTENDS_NOT_SUPPORTED', ...details });
  }
}

/** Python's RuntimeError: an operation that the thread's state does not allow. */
export class RuntimeError extends Error {
  readonly code: string;
  constructor(message = '', details: ErrorDetails = {}) {
    super(message, 'cause' in details ? { cause: details.cause } : undefined);
    this.code = details.code ?? 'ERR_RUNTIME';
  }
}

for (const errorClass of [BackgroundThreadError, BackgroundThreadLimitReachedError,
  FrontendsNotSupported, RuntimeError]) {
  Object.defineProperty(errorClass.prototype, 'name', {
    value: errorClass.name, writable: true, configurable: true, enumerable: false,
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
