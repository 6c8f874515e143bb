// Internal members of the package's classes: symbol-keyed, so that subclasses and user code
// cannot reach or override them by accident.

/** BackgroundThread#[kIsDaemon](): the daemon flag the thread runs with (read once at start()). */
export const kIsDaemon = Symbol('isDaemon');
