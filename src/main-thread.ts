// The thread that runs the event loop: Python's threading.main_thread(). In a worker_threads
// Worker it is that Worker's own thread, since each loop keeps its own threads.
import { native } from './binding';
import { RuntimeError } from './errors';

/** The event loop's own thread: name 'MainThread', never a daemon, always alive. */
export class MainThread {
  #name = 'MainThread';
  readonly ident: number;
  readonly nativeId: number;

  /** @internal Use mainThread(). */
  constructor() {
    [this.ident, this.nativeId] = native.identifyCurrentThread();
  }

  get name(): string { return this.#name; }
  set name(value: unknown) { this.#name = String(value); }
  getName(): string { return this.#name; }
  setName(value: unknown): void { this.#name = String(value); }

  get daemon(): boolean { return false; }
  set daemon(_value: boolean) { throw activeDaemonError(); }
  isDaemon(): boolean { return false; }
  is_daemon(): boolean { return false; }
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
    return `<${this.constructor.name}(${this.#name}, started ${this.ident})>`;
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
