// The older spellings Python's threading.Thread still answers to (getName, isDaemon, ...) and
// the snake_case ones of App Engine's background_thread (is_alive, is_daemon), defined once for
// both thread classes by what they stand for.

/** Base of BackgroundThread and MainThread: the alias methods, each defined by its property. */
export abstract class PythonAliases {
  /** The thread's name: for identification only; several threads may share one. */
  abstract get name(): string;
  abstract set name(value: unknown);
  /** Whether the thread is a daemon thread: one that never holds the process open. */
  abstract get daemon(): boolean;
  abstract set daemon(value: boolean);
  /** True from start() until the thread has ended. */
  abstract isAlive(): boolean;

  /** `this.name`. */
  getName(): string { return this.name; }
  /** Sets `this.name` (to `String(value)`). */
  setName(value: unknown): void { this.name = value; }
  /** `this.daemon`, as in Python: a subclass that overrides `daemon` is answered consistently. */
  isDaemon(): boolean { return this.daemon; }
  /** `this.daemon` (App Engine's spelling). */
  is_daemon(): boolean { return this.daemon; }
  /** Sets `this.daemon`: a RuntimeError (ERR_THREAD_ACTIVE) once the thread has started. */
  setDaemon(value: boolean): void { this.daemon = value; }
  /** `this.isAlive()` (App Engine's spelling). */
  is_alive(): boolean { return this.isAlive(); }
}
