// Internal members of the package's classes: symbol-keyed, so that subclasses and user code
// cannot reach or override them by accident.

/** BackgroundThread#[kIsDaemon](): the daemon flag the thread runs with (read once at start()). */
export const kIsDaemon = Symbol('isDaemon');
/**
 * BackgroundThread#[kRun](nativeId): its OS thread asks this loop to run the target
 * (src/native/loop.ts).
 */
export const kRun = Symbol('run');
/**
 * BackgroundThread#[kEnded](nativeId): its OS thread (or Worker) has ended (src/native/loop.ts).
 */
export const kEnded = Symbol('ended');
