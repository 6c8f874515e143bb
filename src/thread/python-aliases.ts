// The older spellings Python's threading.Thread still answers to (getName, isDaemon, ...) and
// the snake_case ones of App Engine's background_thread (is_alive, is_daemon), defined once for
// both thread classes by what they stand for.

import { EventEmitter } from 'node:events';

/**
 * Base of BackgroundThread and MainThread: the alias methods, each defined by its property, so
 * that a subclass that overrides the property is answered consistently. An EventEmitter: a
 * BackgroundThread emits 'progress'.
 */
export abstract class PythonAliases extends EventEmitter {
  /** The thread's name: for identification only; several threads may share one. */
  abstract get name(): string;
  abstract set name(value: unknown);
  /** Whether the thread is a daemon thread: one that never holds the process open. */
  abstract get daemon(): boolean;
  abstract set daemon(value: boolean);
  /** True from start() until the thread has ended. */
  abstract isAlive(): boolean;

  /**
   * Python's old spelling `getName()`.
   *
   * @returns `this.name`.
   */
  getName(): string { return this.name; }
  /**
   * Python's old spelling `setName(name)`: sets `this.name`, which converts with `String()`.
   *
   * @param value - The new name. Renaming after `start()` does not rename the OS thread.
   */
  setName(value: unknown): void { this.name = value; }
  /**
   * Python's old spelling `isDaemon()`.
   *
   * @returns `this.daemon`, as in Python: a subclass that overrides `daemon` is answered
   *   consistently.
   */
  isDaemon(): boolean { return this.daemon; }
  /**
   * App Engine's spelling of `isDaemon()`.
   *
   * @returns `this.daemon`.
   */
  is_daemon(): boolean { return this.daemon; }
  /**
   * Python's old spelling `setDaemon(daemonic)`: sets `this.daemon`.
   *
   * @param value - The daemon flag: a boolean.
   * @throws {RuntimeError} `ERR_THREAD_ACTIVE` once the thread has started (even once it has
   *   ended), and always on the main thread.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` when `value` is not a boolean.
   */
  setDaemon(value: boolean): void { this.daemon = value; }
  /**
   * App Engine's spelling of `isAlive()` (Python's `is_alive()`).
   *
   * @returns `this.isAlive()`.
   */
  is_alive(): boolean { return this.isAlive(); }
}
