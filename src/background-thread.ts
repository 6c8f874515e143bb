// BackgroundThread: Python's threading.Thread (App Engine's background_thread.BackgroundThread)
// on a real OS thread. The OS thread is created and ended by the addon; its target runs on the
// event loop that started it, inside the thread's own async context.
import { types } from 'node:util';
import type { Worker } from 'node:worker_threads';
import { EVENT_RUN, native } from './binding';
import { currentIsDaemon, currentThread, daemonThreadStarted, runInThread } from './context';
import { BackgroundThreadError, BackgroundThreadLimitReachedError, RuntimeError, argTypeError } from './errors';
import { reportException, routeThreadErrorsToExcepthook } from './excepthook';
import { isModuleTarget, launch, listen, moduleLabel, moduleRef, type ModuleRef, type ModuleTarget } from './isolated-thread';
import { joinCurrentError, activeDaemonError } from './main-thread';
import { settings } from './settings';
import { kIsDaemon } from './symbols';
import * as validate from './validate';

/** A function the thread runs; it may return a Promise, which the thread waits for. */
export type Target = (...args: any[]) => unknown;

export interface BackgroundThreadOptions {
  /** Reserved by Python; anything but null/undefined is an AssertionError. */
  group?: null;
  /**
   * What run() calls; nothing is run when null/undefined. A module reference runs its export in
   * its own isolate, in parallel (see the README: Module targets).
   */
  target?: Target | ModuleTarget | null;
  /** Falsy: 'Thread-N' or 'Thread-N (targetName)'. */
  name?: string | number | null;
  /** Positional arguments for the target, spread. */
  args?: Iterable<unknown> | null;
  /** When given, passed to the target as one extra trailing argument. */
  kwargs?: Record<string, unknown> | null;
  /** Accepted and ignored (the seed's signature has it). */
  verbose?: unknown;
  /** null/undefined: inherited from currentThread(). */
  daemon?: boolean | null;
  /** Bytes for the native stack; 0/null/undefined: stackSize()'s value at start(). */
  stackSize?: number | null;
}

const OPTION_KEYS = new Set(['group', 'target', 'name', 'args', 'kwargs', 'verbose', 'daemon', 'stackSize']);
const POSITIONAL_KEYS = ['group', 'target', 'name', 'args', 'kwargs', 'verbose'] as const;

/** Started and not yet ended threads of this loop, by ident. */
const live = new Map<number, BackgroundThread>();
let lastAutoName = 0;

export function liveThreads(): BackgroundThread[] {
  return [...live.values()];
}

// One constructor, two forms: an options object alone, or the seed's positional order.
function readOptions(params: unknown[]): BackgroundThreadOptions {
  const [first] = params;
  if (params.length === 1 && typeof first === 'object' && first !== null) {
    for (const key of Object.keys(first)) {
      if (!OPTION_KEYS.has(key)) {
        throw argTypeError(`Unknown BackgroundThread option "${key}"`, 'ERR_INVALID_ARG_VALUE');
      }
    }
    return first as BackgroundThreadOptions;
  }
  if (params.length > POSITIONAL_KEYS.length) {
    throw argTypeError(`BackgroundThread takes at most ${POSITIONAL_KEYS.length} positional arguments ` +
      `(group, target, name, args, kwargs, verbose); ${params.length} were given`);
  }
  const options: Record<string, unknown> = {};
  POSITIONAL_KEYS.forEach((key, i) => { options[key] = params[i]; });
  return options as BackgroundThreadOptions;
}

// node:assert is loaded only when needed: it costs milliseconds in each new isolate, and every
// module target's Worker loads this file.
function groupError(): Error {
  const { AssertionError } = require('node:assert') as typeof import('node:assert');
  return new AssertionError({ message: 'group argument must be None for now' });
}

function autoName(target: Target | null, module: ModuleRef | null): string {
  const name = `Thread-${++lastAutoName}`;
  let targetName: unknown = module === null ? '' : moduleLabel(module);
  try { targetName ||= target?.name ?? ''; } catch { /* a throwing name getter */ }
  // A bound function is named after the function it binds, as Python names a bound method.
  if (typeof targetName === 'string') targetName = targetName.replace(/^(bound )+/, '');
  return typeof targetName === 'string' && targetName !== '' ? `${name} (${targetName})` : name;
}

function startFailed(name: string, error: unknown): Error {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'EAGAIN') {
    return new BackgroundThreadLimitReachedError(
      `cannot start ${name}: the operating system refused a new thread (EAGAIN: out of threads or memory)`,
      { code: 'ERR_THREAD_RESOURCES_EXHAUSTED', cause: error });
  }
  return new BackgroundThreadError(`cannot start ${name}: ${(error as Error)?.message}`,
    { code: 'ERR_THREAD_START_FAILED', cause: error });
}

type State = 'initial' | 'started' | 'stopped';

const promiseThen = Promise.prototype.then;

let bootstrap: (thread: BackgroundThread, nativeId: number) => void;
let ended: (thread: BackgroundThread, nativeId: number) => void;

/** A real OS thread with Python's threading.Thread semantics. See the README. */
export class BackgroundThread {
  #target: Target | null = null;
  #module: ModuleRef | null = null;  // a module target: the body is a Worker
  #drainReports: (() => void) | null = null;  // reads the rest of what that Worker posted
  #args: unknown[];
  #kwargs: Record<string, unknown> | null;
  #name: string;
  #daemon: boolean;
  #stackSize: number;
  #state: State = 'initial';
  #ident: number | null = null;
  #nativeId: number | null = null;

  constructor(options?: BackgroundThreadOptions);
  constructor(group?: null, target?: Target | ModuleTarget | null, name?: string | number | null,
    args?: Iterable<unknown> | null, kwargs?: Record<string, unknown> | null, verbose?: unknown);
  constructor(...params: unknown[]) {
    const { group, target, name, args, kwargs, daemon, stackSize } = readOptions(params);
    if (group !== null && group !== undefined) {
      throw groupError();
    }
    if (isModuleTarget(target)) this.#module = moduleRef(target);
    else this.#target = validate.target(target);
    this.#args = validate.args(args);
    this.#kwargs = validate.kwargs(kwargs);
    this.#daemon = daemon === null || daemon === undefined
      ? currentIsDaemon() : validate.boolean(daemon, 'daemon');
    this.#stackSize = stackSize === undefined || stackSize === null ? 0 : validate.stackSize(stackSize, 'stackSize');
    if (this.#module !== null && this.#stackSize !== 0) {
      throw argTypeError('The "stackSize" option does not apply to a module target: Node sizes a ' +
        'Worker\'s stack', 'ERR_INVALID_ARG_VALUE');
    }
    // As Python's `str(name or _newname())`, and a name that prints as '' (`[]`) is no name either.
    this.#name = (name ? String(name) : '') || autoName(this.#target, this.#module);
  }

  /**
   * Creates the OS thread. When it is this loop's only thread, returns once it runs; with other
   * threads alive, at once, so that creations overlap. The target runs later, on this loop.
   */
  start(): void {
    if (this.#state !== 'initial') {
      throw new RuntimeError('threads can only be started once', { code: 'ERR_THREAD_ALREADY_STARTED' });
    }
    // Python reads `self.daemon` when the thread starts: a subclass may override it (a getter, a
    // class field). Read once, here; from now on the thread runs with this value.
    this.#daemon = validate.boolean(this.daemon, 'daemon');
    if (live.size >= settings.maxBackgroundThreads) {
      throw new BackgroundThreadLimitReachedError(
        `cannot start ${this.#name}: ${live.size} background threads are alive, the limit set ` +
        'with setMaxBackgroundThreads()');
    }
    if (this.#module !== null) {
      this.#startIsolated(this.#module);
      return;
    }
    routeThreadErrorsToExcepthook();
    let ids: [number, number];
    try {
      ids = native.start(this.#name, this.#stackSize || settings.stackSize, this.#daemon);
    } catch (error) {
      throw startFailed(this.#name, error);
    }
    const [ident, nativeId] = ids;
    this.#ident = ident;
    if (nativeId !== 0) this.#nativeId = nativeId;  // 0: not reported in yet (see the getter)
    this.#state = 'started';
    live.set(ident, this);
    if (this.#daemon) daemonThreadStarted();
  }

  // A module target: adopt a native record, then create the Worker that is its body.
  #startIsolated(module: ModuleRef): void {
    const ident = native.adoptIsolated(this.#name, this.#daemon);
    let worker: Worker;
    try {
      const launched = launch(module, ident, this.#name, this.#daemon, this.#args, this.#kwargs);
      worker = launched.worker;
      this.#drainReports = listen(launched.port, module, (error) => { reportException(this, error); });
    } catch (error) {
      native.dropIsolated(ident);
      if (error instanceof TypeError) throw error;  // not cloneable
      throw startFailed(this.#name, error);
    }
    // Never an unhandled 'error' (out of memory): it is the thread's exception. Node emits it just
    // before 'exit', and 'exit' ends a thread whose Worker did not exit cleanly (or never bound).
    worker.on('error', (error) => { reportException(this, error); });
    worker.on('exit', () => { native.finishIsolated(ident); });
    this.#ident = ident;
    this.#state = 'started';
    this.#args = [];
    this.#kwargs = null;
    live.set(ident, this);
  }

  /**
   * What the thread does; override it in a subclass. Calls the target, then drops it. A module
   * target's export is called in its Worker instead: run() on such a thread is a RuntimeError.
   */
  run(): unknown {
    if (this.#module !== null) {
      throw new RuntimeError('a module target runs in its own isolate, started by start()',
        { code: 'ERR_MODULE_TARGET_RUN' });
    }
    try {
      if (this.#target === null) return undefined;
      const args = this.#kwargs === null ? this.#args : [...this.#args, this.#kwargs];
      return Reflect.apply(this.#target, undefined, args);  // a plain call: `this` is not the thread
    } finally {
      // As Python does: the thread must not keep its target and arguments alive.
      this.#target = null;
      this.#args = [];
      this.#kwargs = null;
    }
  }

  /**
   * Resolves true once the OS thread has ended, false when `timeout` seconds pass first.
   * null/undefined/Infinity: no timeout; negative: 0 (a poll). The wait is native.
   */
  join(timeout?: number | null): Promise<boolean> {
    try {
      const seconds = this.#checkJoin(timeout);
      if (this.#state === 'stopped') return Promise.resolve(true);
      // A joiner that is not a daemon thread holds the process open while it waits.
      return native.join(this.#ident!, seconds, !currentIsDaemon());
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Blocks this thread in a native timed wait. An event-loop target runs on this same loop, so
   * while it has not settled the wait could never end: that throws ERR_JOIN_WOULD_DEADLOCK at
   * once (a timeout of 0, a poll, returns false instead). A module target's thread needs nothing
   * from this loop: the wait is real, unless its Worker dies without running to its end (out of
   * memory): then its error can only come through this loop, and that is ERR_JOIN_WOULD_DEADLOCK.
   */
  joinSync(timeout?: number | null): boolean {
    const seconds = this.#checkJoin(timeout);
    if (this.#state === 'stopped') return true;
    const result = native.joinSync(this.#ident!, seconds);
    if (result === -1) {
      if (seconds === 0) return false;
      if (this.#module !== null) {
        throw new RuntimeError(
          `cannot joinSync ${this.#name}: its Worker ended without running to its end (out of memory?), ` +
          'and only this event loop can deliver why; use await join() instead',
          { code: 'ERR_JOIN_WOULD_DEADLOCK' });
      }
      throw new RuntimeError(
        `cannot joinSync ${this.#name}: its target has not settled and runs on this event loop, ` +
        'so a blocking wait would never end; use await join() instead',
        { code: 'ERR_JOIN_WOULD_DEADLOCK' });
    }
    return result === 1;
  }

  #checkJoin(timeout: unknown): number {
    if (this.#state === 'initial') {
      throw new RuntimeError('cannot join thread before it is started', { code: 'ERR_THREAD_NOT_STARTED' });
    }
    if (currentThread() === this) throw joinCurrentError();
    return validate.timeoutSeconds(timeout);
  }

  isAlive(): boolean { return this.#state === 'started'; }
  is_alive(): boolean { return this.isAlive(); }

  get daemon(): boolean { return this.#daemon; }
  set daemon(value: boolean) {
    if (this.#state !== 'initial') throw activeDaemonError();
    this.#daemon = validate.boolean(value, 'daemon');
  }
  /** `this.daemon`, as in Python: a subclass that overrides `daemon` is answered consistently. */
  isDaemon(): boolean { return this.daemon; }
  is_daemon(): boolean { return this.daemon; }
  /** @internal The flag the thread runs with. */
  [kIsDaemon](): boolean { return this.#daemon; }
  setDaemon(value: boolean): void { this.daemon = value; }

  get name(): string { return this.#name; }
  set name(value: unknown) { this.#name = String(value); }
  getName(): string { return this.#name; }
  setName(value: unknown): void { this.name = value; }

  /** A unique positive integer, never reused in the process; null before start(). */
  get ident(): number | null { return this.#ident; }
  /**
   * The kernel's id of the OS thread (gettid on Linux); null before start(), and for a module
   * target until its Worker has booted. Read before a new OS thread has run, it waits for that
   * (natively, microseconds).
   */
  get nativeId(): number | null {
    if (this.#nativeId === null && this.#state === 'started') this.#nativeId = native.nativeId(this.#ident!);
    return this.#nativeId;
  }

  toString(): string {
    let status: string = this.#state;
    if (this.#daemon) status += ' daemon';
    if (this.#ident !== null) status += ` ${this.#ident}`;
    return `<${this.constructor.name}(${this.#name}, ${status})>`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  // The thread's life on the loop, driven by native events (see native.init below).
  static {
    bootstrap = (thread, nativeId) => {
      thread.#nativeId ??= nativeId;
      runInThread(thread, thread.#daemon, () => thread.#bootstrap());
    };
    ended = (thread, nativeId) => thread.#ended(nativeId);
  }

  #bootstrap(): void {
    const ident = this.#ident!;
    let result: unknown;
    try {
      result = this.run();
    } catch (error) {
      reportException(this, error);
      native.settled(ident);
      return;
    }
    if (result === null || (typeof result !== 'object' && typeof result !== 'function')) {
      native.settled(ident);
      return;
    }
    const onFulfilled = (): void => { native.settled(ident); };
    const onRejected = (error: unknown): void => { reportException(this, error); native.settled(ident); };
    // A plain native Promise: react to it directly, so that the thread has settled by the time
    // code that awaited the same Promise resumes (adopting it would record the settling two
    // microtasks late). Plain: no own `then` or `constructor`, nor a subclass, so the intrinsic
    // `then` runs no code of anyone's.
    if (types.isPromise(result) && Object.getPrototypeOf(result) === Promise.prototype &&
        !Object.hasOwn(result, 'then') && !Object.hasOwn(result, 'constructor')) {
      promiseThen.call(result, onFulfilled, onRejected);
      return;
    }
    // A Promise of our own adopts any thenable (a Promise with an own `then` included) and turns
    // a throwing `then`, or `then` getter, into a rejection: nothing escapes.
    new Promise((resolve) => { resolve(result); }).then(onFulfilled, onRejected);
  }

  #ended(nativeId: number): void {
    if (nativeId !== 0) this.#nativeId ??= nativeId;
    if (this.#drainReports !== null) {
      // Before anyone learns the thread ended: all it wrote, and its exceptions.
      this.#drainReports();
      this.#drainReports = null;
    }
    this.#state = 'stopped';
    live.delete(this.#ident!);
  }
}

native.init((kind, ident, nativeId) => {
  const thread = live.get(ident);
  if (thread === undefined) return;
  if (kind === EVENT_RUN) bootstrap(thread, nativeId);
  else ended(thread, nativeId);
});
