// BackgroundThread: Python's threading.Thread (App Engine's background_thread.BackgroundThread)
// on a real OS thread. A thread's way through the code:
//   start()      creates the OS thread (native Addon::Start) and registers it (src/loop.ts), or,
//                for a module target, a Worker (src/isolated-thread.ts)
//   [kRun]       its OS thread asks this loop to run the target: run() inside the thread's async
//                context (src/context.ts); the settling is reported with settled()
//   [kEnded]     its OS thread (or Worker) has ended: the thread is stopped
//   join()       a native wait (native/joiners.h); joinSync() a native timed wait (Addon::JoinSync)
// What is left when the loop's env goes away is ended by the native teardown (Addon::Teardown).
import { types } from 'node:util';
import type { Worker } from 'node:worker_threads';
import { currentIsDaemon, currentThread, daemonThreadStarted, runInThread } from './context';
import {
  RuntimeError, activeDaemonError, alreadyStartedError, argTypeError, groupError, joinCurrentError,
  joinWouldDeadlockError, notStartedError, startFailedError, threadCapError,
} from './errors';
import { reportException, routeThreadErrorsToExcepthook } from './excepthook';
import { isModuleTarget, launch, listen, moduleLabel, moduleRef, type ModuleRef, type ModuleTarget } from './isolated-thread';
import { attach, liveCount, register } from './loop';
import { PythonAliases } from './python-aliases';
import { settings } from './settings';
import { kEnded, kIsDaemon, kRun } from './symbols';
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

let lastAutoName = 0;

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

function autoName(target: Target | null, module: ModuleRef | null): string {
  const name = `Thread-${++lastAutoName}`;
  let targetName: unknown = module === null ? '' : moduleLabel(module);
  try { targetName ||= target?.name ?? ''; } catch { /* a throwing name getter */ }
  // A bound function is named after the function it binds, as Python names a bound method.
  if (typeof targetName === 'string') targetName = targetName.replace(/^(bound )+/, '');
  return typeof targetName === 'string' && targetName !== '' ? `${name} (${targetName})` : name;
}

type State = 'initial' | 'started' | 'stopped';

const promiseThen = Promise.prototype.then;

/** A real OS thread with Python's threading.Thread semantics. See the README. */
export class BackgroundThread extends PythonAliases {
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
    super();
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
      throw alreadyStartedError();
    }
    // Python reads `self.daemon` when the thread starts: a subclass may override it (a getter, a
    // class field). Read once, here; from now on the thread runs with this value.
    this.#daemon = validate.boolean(this.daemon, 'daemon');
    if (liveCount() >= settings.maxBackgroundThreads) throw threadCapError(this.#name, liveCount());
    if (this.#module !== null) {
      this.#startIsolated(this.#module);
      return;
    }
    routeThreadErrorsToExcepthook();
    let ids: [number, number];
    try {
      ids = attach().start(this.#name, this.#stackSize || settings.stackSize, this.#daemon);
    } catch (error) {
      throw startFailedError(this.#name, error);
    }
    const [ident, nativeId] = ids;
    this.#ident = ident;
    if (nativeId !== 0) this.#nativeId = nativeId;  // 0: not reported in yet (see the getter)
    this.#state = 'started';
    register(ident, this);
    if (this.#daemon) daemonThreadStarted();
  }

  // A module target: adopt a native record, then create the Worker that is its body.
  #startIsolated(module: ModuleRef): void {
    const loop = attach();
    const ident = loop.adoptIsolated(this.#name, this.#daemon);
    let worker: Worker;
    try {
      const launched = launch(module, ident, this.#name, this.#daemon, this.#args, this.#kwargs);
      worker = launched.worker;
      this.#drainReports = listen(launched.port, module, (error) => { reportException(this, error); });
    } catch (error) {
      loop.dropIsolated(ident);
      if (error instanceof TypeError) throw error;  // not cloneable
      throw startFailedError(this.#name, error);
    }
    // Never an unhandled 'error' (out of memory): it is the thread's exception. Node emits it just
    // before 'exit', and 'exit' ends a thread whose Worker did not exit cleanly (or never bound).
    worker.on('error', (error) => { reportException(this, error); });
    worker.on('exit', () => { loop.finishIsolated(ident); });
    this.#ident = ident;
    this.#state = 'started';
    this.#args = [];
    this.#kwargs = null;
    register(ident, this);
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
      return attach().join(this.#ident!, seconds, !currentIsDaemon());
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
    const result = attach().joinSync(this.#ident!, seconds);
    if (result === -1) {
      if (seconds === 0) return false;
      throw joinWouldDeadlockError(this.#name, this.#module !== null
        ? 'its Worker ended without running to its end (out of memory?), and only this event loop can deliver why'
        : 'its target has not settled and runs on this event loop, so a blocking wait would never end');
    }
    return result === 1;
  }

  #checkJoin(timeout: unknown): number {
    if (this.#state === 'initial') {
      throw notStartedError();
    }
    if (currentThread() === this) throw joinCurrentError();
    return validate.timeoutSeconds(timeout);
  }

  isAlive(): boolean { return this.#state === 'started'; }

  get daemon(): boolean { return this.#daemon; }
  set daemon(value: boolean) {
    if (this.#state !== 'initial') throw activeDaemonError();
    this.#daemon = validate.boolean(value, 'daemon');
  }
  /** @internal The flag the thread runs with. */
  [kIsDaemon](): boolean { return this.#daemon; }

  get name(): string { return this.#name; }
  set name(value: unknown) { this.#name = String(value); }

  /** A unique positive integer, never reused in the process; null before start(). */
  get ident(): number | null { return this.#ident; }
  /**
   * The kernel's id of the OS thread (gettid on Linux); null before start(), and for a module
   * target until its Worker has booted. Read before a new OS thread has run, it waits for that
   * (natively, microseconds).
   */
  get nativeId(): number | null {
    if (this.#nativeId === null && this.#state === 'started') this.#nativeId = attach().nativeId(this.#ident!);
    return this.#nativeId;
  }

  override toString(): string {
    let status: string = this.#state;
    if (this.#daemon) status += ' daemon';
    if (this.#ident !== null) status += ` ${this.#ident}`;
    return `<${this.constructor.name}(${this.#name}, ${status})>`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  /** @internal The OS thread asks this loop to run the target, now (src/loop.ts). */
  [kRun](nativeId: number): void {
    this.#nativeId ??= nativeId;
    runInThread(this, this.#daemon, () => this.#bootstrap());
  }

  #bootstrap(): void {
    const ident = this.#ident!;
    const loop = attach();
    let result: unknown;
    try {
      result = this.run();
    } catch (error) {
      reportException(this, error);
      loop.settled(ident);
      return;
    }
    if (result === null || (typeof result !== 'object' && typeof result !== 'function')) {
      loop.settled(ident);
      return;
    }
    const onFulfilled = (): void => { loop.settled(ident); };
    const onRejected = (error: unknown): void => { reportException(this, error); loop.settled(ident); };
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

  /** @internal The OS thread (or the Worker) has ended (src/loop.ts). */
  [kEnded](nativeId: number): void {
    if (nativeId !== 0) this.#nativeId ??= nativeId;
    if (this.#drainReports !== null) {
      // Before anyone learns the thread ended: all it wrote, and its exceptions.
      this.#drainReports();
      this.#drainReports = null;
    }
    this.#state = 'stopped';
  }
}
