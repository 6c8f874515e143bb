// The thread that runs the event loop: Python's threading.main_thread(). In a worker_threads
// Worker it is that Worker's own thread, since each loop keeps its own threads; in the Worker of
// a module target it is that thread, with the name, ident and daemon flag its creator gave it.
import { native } from './binding';
import { RuntimeError } from './errors';

interface Identity { ident: number; name: string; daemon: boolean }

/** The event loop's own thread: name 'MainThread', never a daemon, always alive. */
export class MainThread {
  #name = 'MainThread';
  #daemon = false;
  #label = 'MainThread';
  readonly ident: number;
  readonly nativeId: number;

  /** @internal Use mainThread(). */
  constructor(identity?: Identity) {
    if (identity === undefined) {
      [this.ident, this.nativeId] = native.identifyCurrentThread();
    } else {
      // The OS thread takes the name too (the Worker's thread is Node's; see isolated_thread.h).
      this.nativeId = native.bindIsolated(identity.ident);
      this.ident = identity.ident;
      this.#name = identity.name;
      this.#daemon = identity.daemon;
      this.#label = 'BackgroundThread';
    }
  }

  get name(): string { return this.#name; }
  set name(value: unknown) { this.#name = String(value); }
  getName(): string { return this.#name; }
  setName(value: unknown): void { this.#name = String(value); }

  get daemon(): boolean { return this.#daemon; }
  set daemon(_value: boolean) { throw activeDaemonError(); }
  isDaemon(): boolean { return this.#daemon; }
  is_daemon(): boolean { return this.#daemon; }
  setDaemon(_value: boolean): void { throw activeDaemonError(); }

  isAlive(): boolean { return true; }
  is_alive(): boolean { return true; }

  start(): void {
    throw new RuntimeError('threads can only be started once', { code: 'ERR_THREAD_ALREADY_STARTED' });
  }

  run(): unknown { return undefined; }

  /** Every target runs on this thread's loop, so joining it is joining the current thread. */
  join(_timeout?: number | null): Promise<boolean> {
    return Promise.reject(joinCurrentError());
  }

  joinSync(_timeout?: number | null): boolean {
    throw joinCurrentError();
  }

  toString(): string {
    return `<${this.#label}(${this.#name}, started${this.#daemon ? ' daemon' : ''} ${this.ident})>`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

export function activeDaemonError(): RuntimeError {
  return new RuntimeError('cannot set daemon status of active thread', { code: 'ERR_THREAD_ACTIVE' });
}

export function joinCurrentError(): RuntimeError {
  return new RuntimeError('cannot join current thread', { code: 'ERR_JOIN_CURRENT_THREAD' });
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
