// The thread that runs the event loop: Python's threading.main_thread(). In a worker_threads
// Worker it is that Worker's own thread, since each loop keeps its own threads; in the Worker of
// a module target it is that thread, with the name, ident and daemon flag its creator gave it.
import { activeDaemonError, alreadyStartedError, joinCurrentError } from './errors';
import { attach } from './loop';
import { PythonAliases } from './python-aliases';

interface Identity { ident: number; name: string; daemon: boolean }

/**
 * The event loop's own thread (mainThread(), currentThread() outside any target): named
 * 'MainThread', never a daemon, always alive. It cannot be started or joined.
 */
export class MainThread extends PythonAliases {
  #name = 'MainThread';
  #daemon = false;
  #label = 'MainThread';
  /** A unique positive integer, never reused in the process. */
  readonly ident: number;
  /** The kernel's id of the thread running this event loop. */
  readonly nativeId: number;

  /** @internal Use mainThread(). */
  constructor(identity?: Identity) {
    super();
    const loop = attach();
    if (identity === undefined) {
      [this.ident, this.nativeId] = loop.identifyCurrentThread();
    } else {
      // The OS thread takes the name too (the Worker's thread is Node's; see isolated_thread.h).
      this.nativeId = loop.bindIsolated(identity.ident);
      this.ident = identity.ident;
      this.#name = identity.name;
      this.#daemon = identity.daemon;
      this.#label = 'BackgroundThread';
    }
  }

  get name(): string { return this.#name; }
  set name(value: unknown) { this.#name = String(value); }

  /** false, except in a daemon module target's Worker; setting it is a RuntimeError (ERR_THREAD_ACTIVE). */
  get daemon(): boolean { return this.#daemon; }
  set daemon(_value: boolean) { throw activeDaemonError(); }

  /** Always true. */
  isAlive(): boolean { return true; }

  /** A RuntimeError (ERR_THREAD_ALREADY_STARTED): it is running. */
  start(): void {
    throw alreadyStartedError();
  }

  /** Does nothing. */
  run(): unknown { return undefined; }

  /** Rejects (ERR_JOIN_CURRENT_THREAD): every target runs on this thread's loop, so this would be joining the current thread. */
  join(_timeout?: number | null): Promise<boolean> {
    return Promise.reject(joinCurrentError());
  }

  /** Throws ERR_JOIN_CURRENT_THREAD, as join() rejects. */
  joinSync(_timeout?: number | null): boolean {
    throw joinCurrentError();
  }

  override toString(): string {
    return `<${this.#label}(${this.#name}, started${this.#daemon ? ' daemon' : ''} ${this.ident})>`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

let theMainThread: MainThread | undefined;

/** The MainThread object of this event loop. */
export function mainThread(): MainThread {
  return (theMainThread ??= new MainThread());
}

/** In a module target's Worker, before anything else: this loop's thread is that thread. */
export function adoptThreadIdentity(ident: number, name: string, daemon: boolean): void {
  theMainThread = new MainThread({ ident, name, daemon });
}
