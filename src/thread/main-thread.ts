// The thread that runs the event loop: Python's threading.main_thread(). In a worker_threads
// Worker it is that Worker's own thread, since each loop keeps its own threads; in the Worker of
// a module target it is that thread, with the name, ident and daemon flag its creator gave it.
import { activeDaemonError, alreadyStartedError, joinCurrentError } from '../core/errors';
import { progressValue } from '../core/checks';
import { attach } from '../native/loop';
import { PythonAliases } from './python-aliases';

interface Identity {
  ident: number; name: string; daemon: boolean;
  /** The run's signal: it aborts when the creator cancels the thread. */
  signal: AbortSignal;
  /** Sends a checked progress value to the creator; false once the run has ended. */
  report(value: unknown): boolean;
}

let neverAborts: AbortSignal | undefined;

/**
 * The thread that runs this event loop, Python's `threading.main_thread()`: what
 * {@link mainThread} returns, and `currentThread()` outside any target. Exported for `instanceof`
 * checks; get the instance from `mainThread()`. It has the same read surface as a
 * BackgroundThread: named `MainThread`, never a daemon, always alive. It cannot be started, and
 * joining it is always joining the current thread: every target runs on this thread's loop.
 *
 * In a `worker_threads` Worker it stands for that Worker's own thread (each loop keeps its own
 * threads, names and limits); in a module target's Worker it is that thread, with the name,
 * ident and daemon flag its creator gave it.
 */
export class MainThread extends PythonAliases {
  #name = 'MainThread';
  #daemon = false;
  #label = 'MainThread';
  #signal: AbortSignal | null = null;
  #report: ((value: unknown) => boolean) | null = null;
  /**
   * A positive integer, unique in the process (across Workers too) and never reused; in a module
   * target's Worker, that thread's ident.
   */
  readonly ident: number;
  /** The kernel's id of the OS thread running this event loop (Python's `native_id`). */
  readonly nativeId: number;

  /** @internal Use mainThread(). */
  constructor(identity?: Identity) {
    super();
    const loop = attach();
    if (identity === undefined) {
      [this.ident, this.nativeId] = loop.identifyCurrentThread();
    } else {
      // The OS thread takes the name too (the isolate's thread is Node's; see adopted.h).
      this.nativeId = loop.bindAdopted(identity.ident);
      this.ident = identity.ident;
      this.#name = identity.name;
      this.#daemon = identity.daemon;
      this.#label = 'BackgroundThread';
      this.#signal = identity.signal;
      this.#report = identity.report;
    }
  }

  /**
   * A signal that never aborts; in a module target's Worker, that thread's: it aborts when its
   * creator cancels the thread (`thread.cancel()`), with a copy of its ThreadCancelledError.
   */
  get signal(): AbortSignal {
    return this.#signal ?? (neverAborts ??= new AbortController().signal);
  }

  /**
   * In a module target's Worker: the thread's `reportProgress()` (the value goes to the creator's
   * thread object, `thread.progress` and its 'progress' event). Elsewhere the value is checked and
   * nothing is reported: the main thread has nobody to report to.
   *
   * @param value - As BackgroundThread's `reportProgress()`.
   * @returns true when the report was sent; false on the main thread, and once the run has ended.
   */
  reportProgress(value: unknown): boolean {
    const checked = progressValue(value);
    return this.#report?.(checked) ?? false;
  }

  /**
   * `MainThread` (in a module target's Worker: that thread's name). Assigning (or `setName()`)
   * converts with `String()` and renames only this object: not the OS thread, nor, in a module
   * target's Worker, the creator's object.
   */
  get name(): string { return this.#name; }
  set name(value: unknown) { this.#name = String(value); }

  /**
   * False, except in a daemon module target's Worker (threads started there inherit it). Setting
   * it (or `setDaemon()`) throws a RuntimeError (`ERR_THREAD_ACTIVE`): the thread is running.
   */
  get daemon(): boolean { return this.#daemon; }
  set daemon(_value: boolean) { throw activeDaemonError(); }

  /**
   * Always true: the thread is running.
   *
   * @returns true.
   */
  isAlive(): boolean { return true; }

  /**
   * Always throws: the thread is running.
   *
   * @throws {RuntimeError} `ERR_THREAD_ALREADY_STARTED`.
   */
  start(): void {
    throw alreadyStartedError();
  }

  /**
   * Does nothing.
   *
   * @returns undefined.
   */
  run(): unknown { return undefined; }

  /**
   * Always rejects: every target runs on this thread's loop, so this would be joining the current
   * thread.
   *
   * @param _timeout - Ignored.
   * @returns A rejected Promise.
   * @throws {RuntimeError} As a rejection: `ERR_JOIN_CURRENT_THREAD`.
   */
  join(_timeout?: number | null): Promise<boolean> {
    return Promise.reject(joinCurrentError());
  }

  /**
   * Always throws, as `join()` rejects.
   *
   * @param _timeout - Ignored.
   * @throws {RuntimeError} `ERR_JOIN_CURRENT_THREAD`.
   */
  joinSync(_timeout?: number | null): boolean {
    throw joinCurrentError();
  }

  /**
   * `<MainThread(MainThread, started IDENT)>`; in a module target's Worker
   * `<BackgroundThread(NAME, started[ daemon] IDENT)>`. `util.inspect` and `console.log` print
   * the same.
   */
  override toString(): string {
    return `<${this.#label}(${this.#name}, started${this.#daemon ? ' daemon' : ''} ${this.ident})>`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

let theMainThread: MainThread | undefined;

/**
 * Python's `threading.main_thread()`.
 *
 * @returns The {@link MainThread} object of this event loop (the same object on every call): in a
 *   `worker_threads` Worker, that Worker's own thread; in a module target's Worker, that thread.
 */
export function mainThread(): MainThread {
  return (theMainThread ??= new MainThread());
}

/** In a module target's Worker, before anything else: this loop's thread is that thread. */
export function adoptThreadIdentity(identity: Identity): void {
  theMainThread = new MainThread(identity);
}
