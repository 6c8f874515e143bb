// BackgroundThread: Python's threading.Thread (App Engine's background_thread.BackgroundThread)
// on a real OS thread. The class keeps the Python contract; a body carries out the run
// (src/thread/body.ts: one per kind of target). A thread's way through the code:
//   start()      starts its body (an OS thread, an isolate's run, a job), which enters the
//                thread in this loop's registry (native/loop.h)
//   [kRun]       a function target's OS thread asks this loop to run the target: run() inside the
//                thread's async context (src/thread/context.ts, src/thread/function-body.ts)
//   [kEnded]     its native record has ended: the body delivers the rest, the thread is stopped
//   join()       a native wait (native/joiners.h); joinSync() a native timed wait (Loop::JoinSync)
// What is left when the loop's env goes away is ended by the native teardown (Loop::Teardown).
import type { TransferListItem } from 'node:worker_threads';
import { currentIsDaemon, currentThread, daemonThreadStarted, outsideThreads, runInThread } from './context';
import {
  RuntimeError, activeDaemonError, alreadyStartedError, cancelledError, joinCurrentError,
  joinWouldDeadlockError, notStartedError, threadCapError, type ThreadCancelledError,
} from '../core/errors';
import { reportException, routeThreadErrorsToExcepthook } from './excepthook';
import { startModuleThread } from '../isolate/body';
import { attach, liveCount } from '../native/loop';
import type { RemoteJob } from '../remote/options';
import { endedBody, type ThreadBody, type ThreadEvents, type ThreadStart } from './body';
import { runTarget, startFunctionThread } from './function-body';
import type { ModuleRef, ModuleTarget } from './module-target';
import { readThreadOptions, type BackgroundThreadOptions, type Target } from './options';
import { PythonAliases } from './python-aliases';
import { settings } from './settings';
import { kEnded, kIsDaemon, kRun } from '../core/symbols';
import {
  checkCarrier, runTrace, settling, startChannel, startTrace, traceRun, traceSettled,
  traceStart, type TraceContext,
} from '../core/tracing';
import * as check from '../core/checks';

type State = 'initial' | 'started' | 'stopped';

/**
 * A real OS thread with the semantics of Python's `threading.Thread` (App Engine's
 * `background_thread.BackgroundThread`): start once, run, join with a timeout, alive and daemon
 * flags, exceptions to the excepthook (`setExcepthook()`).
 *
 * The addon creates the OS thread through libuv. A function target runs on the event loop that
 * called `start()` (the main thread, or a Worker), on a later macrotask, inside the thread's own
 * async context; the OS thread lives until the target, and the Promise it returned, has settled.
 * A module target ({@link ModuleTarget}) runs its export in its own isolate, in parallel. A
 * non-daemon thread keeps the process alive until it ends; a daemon thread never does.
 *
 * Errors are thrown synchronously, except by `join()`, which rejects. Bad input leaves the object
 * as it was.
 *
 * @example
 * ```js
 * const t = new BackgroundThread({
 *   target: sendReport,
 *   args: [42, 'pdf'],
 *   kwargs: { retries: 3 },         // passed as ONE trailing argument
 * });
 * t.start();                        // creates the OS thread; the target runs on a later turn
 * console.log(await t.join(0.01));  // false: still running after 10 ms
 * console.log(await t.join());      // true: the thread has ended
 * ```
 */
export class BackgroundThread extends PythonAliases {
  #target: Target | null = null;
  #module: ModuleRef | null = null;  // a module target: its run is carried out elsewhere
  #body: ThreadBody | null = null;  // what carries out the run, once started
  #remote: RemoteJob | null = null;  // a remote thread's job, once started
  // What the body reports. Once the thread is cancelled, its outcome is the cancellation: what
  // the target returned or threw after that (an AbortError of its own, say) is dropped.
  readonly #events: ThreadEvents = {
    onException: (error) => { if (this.#cancelled === null) this.#threw(error); },
    onResult: (value) => {
      if (this.#cancelled !== null) return;
      this.#result = value;
      this.#settled = true;
    },
    onExitCode: (code) => { if (this.#cancelled === null) this.#exitCode = code; },
    onProgress: (value) => { this.#progressed(value); },
  };
  #signalOption: AbortSignal | null;
  #onAbort: (() => void) | null = null;
  #controller: AbortController | null = null;  // made when `signal` is first read, or at cancel()
  #cancelled: ThreadCancelledError | null = null;
  #cancelGrace: number;
  #reportCancel: boolean;
  #settled = false;  // its outcome (a result, an exception) has reached this loop
  #progress: unknown = undefined;
  #fresh = false;
  #transfer: TransferListItem[] = [];
  #result: unknown = undefined;
  #exception: unknown = undefined;
  #exitCode: number | undefined = undefined;
  #excepted = false;
  #args: unknown[];
  #kwargs: Record<string, unknown> | null;
  #name: string;
  #daemon: boolean;
  #stackSize: number;
  #state: State = 'initial';
  #ident: number | null = null;
  #nativeId: number | null = null;
  #trace: TraceContext | null = null;  // the start channel's context, while someone listens

  /**
   * Creates an unstarted thread; `start()` starts it. A single non-null object argument is read
   * as the options object.
   *
   * @param options - The thread's target, arguments, name and flags: see
   *   {@link BackgroundThreadOptions}, which lists each option's errors. An unknown key throws a
   *   TypeError (`ERR_INVALID_ARG_VALUE`).
   * @throws {AssertionError} `ERR_ASSERTION` when `group` is given.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE`, `ERR_INVALID_ARG_VALUE` or `ERR_INVALID_URL` for
   *   a bad option or module target.
   * @throws {RangeError} `ERR_OUT_OF_RANGE` for a `stackSize` out of range.
   */
  constructor(options?: BackgroundThreadOptions);
  /**
   * App Engine's positional form, in its order; used whenever the arguments are not a single
   * non-null object. So `new BackgroundThread(fn)` passes `fn` as `group` and throws the
   * AssertionError: write `new BackgroundThread({ target: fn })`. `daemon` and `stackSize` have
   * no position. More than six arguments throw a TypeError (`ERR_INVALID_ARG_TYPE`).
   *
   * @param group - Reserved: null/undefined ({@link BackgroundThreadOptions.group}).
   * @param target - A function, a module target, or null/undefined
   *   ({@link BackgroundThreadOptions.target}).
   * @param name - The name; falsy: automatic ({@link BackgroundThreadOptions.name}).
   * @param args - The positional arguments ({@link BackgroundThreadOptions.args}).
   * @param kwargs - One trailing object argument ({@link BackgroundThreadOptions.kwargs}).
   * @param verbose - Accepted and ignored.
   * @throws The errors of the options form.
   */
  constructor(group?: null, target?: Target | ModuleTarget | null, name?: string | number | null,
    args?: Iterable<unknown> | null, kwargs?: Record<string, unknown> | null, verbose?: unknown);
  constructor(...params: unknown[]) {
    super();
    const spec = readThreadOptions(params);
    this.#target = spec.target;
    this.#module = spec.module;
    this.#args = spec.args;
    this.#kwargs = spec.kwargs;
    this.#daemon = spec.daemon;
    this.#stackSize = spec.stackSize;
    this.#fresh = spec.fresh;
    this.#transfer = spec.transfer;
    this.#name = spec.name;
    this.#signalOption = spec.signal;
    this.#cancelGrace = spec.cancelGrace;
    this.#reportCancel = spec.reportCancel;
  }

  /**
   * Starts the thread, as Python's `Thread.start()`: creates its OS thread (for a module target,
   * its Worker). `isAlive()` and `ident` are set when it returns. When this is the loop's only
   * live thread, it returns once the OS thread runs (microseconds; the target is then dispatched
   * without waking the loop from its poll); with other threads alive it returns at once, so that
   * creations overlap, and a `nativeId` read before the new OS thread has run waits for it.
   *
   * The target does not run inside `start()`: it runs on a later macrotask of the same event loop,
   * when its OS thread asks for it (so targets of threads started together may begin in any
   * order, as threads do). `start()` reads `this.daemon` once: that is the flag the thread runs
   * with (see {@link BackgroundThread.daemon}).
   *
   * After any error but the first below, the thread stays unstarted and `start()` can be called
   * again later.
   *
   * @throws {RuntimeError} `ERR_THREAD_ALREADY_STARTED` on a second call, also after the end:
   *   a thread starts only once.
   * @throws {BackgroundThreadLimitReachedError} `ERR_THREAD_LIMIT_REACHED` when the cap of
   *   `setMaxBackgroundThreads()` is reached; `ERR_THREAD_RESOURCES_EXHAUSTED` when the OS
   *   refuses a thread (`EAGAIN`).
   * @throws {BackgroundThreadError} `ERR_THREAD_START_FAILED` when thread creation fails
   *   otherwise. For this and `EAGAIN`, `error.cause` is the addon's error, with libuv's `code`
   *   and `errno` (for a module target: the Worker constructor's error). `ERR_BUNDLED` for a
   *   module target when the package's JavaScript was bundled into the app's, away from the
   *   runner file its isolates start from (mark the package as external in the bundler).
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` when `this.daemon` is not a boolean (a throwing
   *   `daemon` getter's own error is thrown as it is); `ERR_INVALID_ARG_VALUE` when a module
   *   target's `args` or `kwargs` cannot be structured-cloned.
   */
  start(): void {
    if (this.#state !== 'initial') {
      throw alreadyStartedError();
    }
    // Python reads `self.daemon` when the thread starts: a subclass may override it (a getter, a
    // class field). Read once, here; from now on the thread runs with this value.
    this.#daemon = check.boolean(this.daemon, 'daemon');
    const kind = this.#module === null ? 'function' : this.#module.remote ? 'remote' : 'module';
    const trace = startTrace(this, kind, this.#name, this.#daemon);  // null: nobody listens
    this.#trace = trace;
    let body: ThreadBody;
    try {
      body = trace === null ? this.#startBody() : traceStart(trace, () => this.#startBody());
    } catch (error) {
      this.#trace = null;
      throw error;
    }
    this.#body = body;
    this.#ident = body.ident;
    this.#state = 'started';
    if (this.#module === null && this.#daemon) daemonThreadStarted();
    const signal = this.#signalOption;
    if (signal === null) return;
    if (signal.aborted) {
      this.cancel(signal.reason);
      return;
    }
    this.#onAbort = () => { this.cancel(signal.reason); };
    signal.addEventListener('abort', this.#onAbort, { once: true });
  }

  #start(): ThreadStart {
    return {
      name: this.#name, daemon: this.#daemon, args: this.#args, kwargs: this.#kwargs,
      transfer: this.#transfer, fresh: this.#fresh, cancelGrace: this.#cancelGrace, thread: this,
      carrier: this.#trace === null ? null : checkCarrier(this.#trace.carrier, `of ${this.#name}`),
    };
  }

  #dropArguments(): void {
    this.#target = null;
    this.#args = [];
    this.#kwargs = null;
    this.#transfer = [];
  }

  #startBody(): ThreadBody {
    if (liveCount() >= settings.maxBackgroundThreads) throw threadCapError(this.#name, liveCount());
    if (this.#signalOption?.aborted) {  // cancelled before it started: it ends at once
      const body = endedBody(this.#start());
      this.#dropArguments();
      return body;
    }
    return this.#module === null ? this.#startFunction() : this.#startModule(this.#module);
  }

  #startFunction(): ThreadBody {
    const body = startFunctionThread(this.#name, this.#stackSize || settings.stackSize,
      this.#daemon, this);
    if (body.nativeId !== 0) this.#nativeId = body.nativeId;
    return body;
  }

  // A module target: an isolate carries out its run, or, remote, a BullMQ job (src/remote/body.ts,
  // loaded then: BullMQ is an optional peer). The arguments go with the run.
  #startModule(module: ModuleRef): ThreadBody {
    const start = this.#start();
    let body: ThreadBody;
    if (module.remote) {
      const { startRemoteThread } = require('../remote/body') as typeof import('../remote/body');
      routeThreadErrorsToExcepthook();
      const remote = startRemoteThread(module, module.remote, start, this.#events);
      this.#remote = remote.job;
      body = remote;
    } else {
      body = startModuleThread(module, start, this.#events);
    }
    this.#dropArguments();
    return body;
  }

  // The excepthook sees it first; `exception` then keeps the first one. Once the thread has ended
  // (join() has resolved) it is final: an error of what the target left behind (a timer, say)
  // reaches the hook only.
  #threw(error: unknown): void {
    reportException(this, error);
    if (!this.#excepted && this.#state !== 'stopped') {
      this.#excepted = true;
      this.#exception = error;
      this.#settled = true;
    }
  }

  /**
   * Cancels the thread: its target's signal (`currentThread().signal` inside it; `thread.signal`
   * here) aborts with a {@link ThreadCancelledError} (`ERR_THREAD_CANCELLED`, `cause`: `reason`
   * when given), and the thread ends with that error as its `exception`, whatever its target
   * returns or throws afterwards. Cancellation is cooperative for a function target (it runs on
   * this loop: it ends when it settles, so observe the signal); a module target's isolate is
   * terminated if the export has not settled `cancelGrace` seconds later, and never reused; a
   * remote thread's job is withdrawn and removed if no worker has begun it, else its worker
   * cancels it (BullMQ's job cancellation), and it is not retried. A target that has not begun
   * never runs.
   *
   * @param reason - Why: the error's `cause` (any value; omitted: no cause).
   * @returns true when this call cancelled the thread; false when there was nothing to cancel:
   *   not started, already ended, already cancelled, or its outcome already known here (its target
   *   has settled and the thread is ending).
   */
  cancel(reason?: unknown): boolean {
    if (this.#state !== 'started' || this.#cancelled !== null || this.#settled) return false;
    const error = cancelledError(this.#name, reason, arguments.length > 0);
    this.#cancelled = error;
    this.#excepted = true;
    this.#exception = error;
    this.#ownSignal().abort(error);
    this.#body!.cancel(error, this.#cancelGrace);
    return true;
  }

  #ownSignal(): AbortController {
    return (this.#controller ??= new AbortController());
  }

  /**
   * The thread's AbortSignal: it aborts when the thread is cancelled (`cancel()`, or the `signal`
   * option), with the thread's ThreadCancelledError as its `reason`. Inside the target,
   * `currentThread().signal` is this signal (in a module target's isolate, and on a remote
   * thread's worker: a copy that aborts there): pass it to `fetch()`, streams and timers.
   */
  get signal(): AbortSignal { return this.#ownSignal().signal; }

  /**
   * The last value the target reported with `currentThread().reportProgress(value)`; undefined
   * until it reports. Each report is also emitted as a `'progress'` event (`thread.on('progress',
   * (value) => ...)`), in order, all of them before `join()` resolves.
   */
  get progress(): unknown { return this.#progress; }

  /**
   * Reports the thread's progress, from inside its target
   * (`currentThread().reportProgress(value)`):
   * `thread.progress` becomes `value` and the thread emits `'progress'` with it, in order, before
   * its end. Every report is delivered: nothing is merged or dropped (a flood costs what it
   * costs; see the performance guide). Listeners run on the creator's loop outside the thread's
   * context, after the current operation; one that throws is an uncaught exception there.
   *
   * @param value - A finite number, a string, a boolean, null, or an object or array that JSON
   *   carries, at most 64 KiB as JSON (an object arrives as its JSON copy, for every kind of
   *   thread). Else a TypeError (`ERR_INVALID_ARG_TYPE`, or `ERR_INVALID_ARG_VALUE` for what
   *   JSON refuses) or a RangeError (`ERR_OUT_OF_RANGE`: not finite, or too large).
   * @returns true when the report was taken; false when the thread is not running (not started,
   *   or ended).
   */
  reportProgress(value: unknown): boolean {
    const checked = check.progressValue(value);
    if (this.#state !== 'started') return false;
    this.#progressed(checked);
    return true;
  }

  #progressed(value: unknown): void {
    this.#progress = value;
    if (this.listenerCount('progress') === 0) return;
    // After the current operation and outside the thread's context: a listener is the creator's.
    // A microtask, so that it comes before the settling of the target's Promise, and of join()'s.
    outsideThreads(() => { queueMicrotask(() => { this.emit('progress', value); }); });
  }

  /**
   * What the thread does, as Python's `Thread.run()`: override it in a subclass. The default calls
   * `target(...args)`, or `target(...args, kwargs)` when `kwargs` was given, as a plain call
   * (`this` is not the thread), returns its result, and then drops its references to the target
   * and the arguments (as Python does) so they can be collected: a second call runs nothing.
   *
   * The thread calls it inside its own async context, where `currentThread()` answers the
   * thread. A Promise (or any thenable) it returns keeps the thread alive until it settles. What
   * it throws, or the Promise's rejection, goes to the excepthook (`setExcepthook()`).
   *
   * @returns The target's result; undefined without a target.
   * @throws {RuntimeError} `ERR_MODULE_TARGET_RUN` on a module target's thread: its export is
   *   called in its own Worker, so there is no code to run in the creator.
   * @example
   * ```js
   * class Mailer extends BackgroundThread {
   *   constructor(to) {
   *     super({ name: `mail-${to}` });
   *     this.to = to;
   *   }
   *   async run() {
   *     await new Promise((resolve) => setTimeout(resolve, 10));
   *     console.log(`${currentThread().name}: sent to ${this.to}`);
   *   }
   * }
   * const mailer = new Mailer('ann');
   * mailer.start();
   * console.log(String(mailer));            // <Mailer(mail-ann, started 2)>
   * await mailer.join();
   * console.log(String(mailer));            // <Mailer(mail-ann, stopped 2)>
   * ```
   */
  run(): unknown {
    if (this.#module !== null) {
      throw new RuntimeError('a module target runs in its own isolate, started by start()',
        { code: 'ERR_MODULE_TARGET_RUN' });
    }
    try {
      if (this.#target === null) return undefined;
      const args = this.#kwargs === null ? this.#args : [...this.#args, this.#kwargs];
      // A plain call: `this` is not the thread.
      return Reflect.apply(this.#target, undefined, args);
    } finally {
      // As Python does: the thread must not keep its target and arguments alive.
      this.#target = null;
      this.#args = [];
      this.#kwargs = null;
    }
  }

  /**
   * Waits for the thread to end without blocking, as Python's `Thread.join(timeout)` blocks. Any
   * number of callers may join the same thread. The wait is native: the addon settles the Promise
   * when the thread has ended and its OS thread is released (a function target's OS thread then
   * parks for reuse, renamed, rather than exiting), or from a libuv timer. While it waits, a
   * `join()` called by a non-daemon thread (top-level code included) keeps the process alive; one
   * called from a daemon thread's target does not. Errors come back as a rejected Promise, never
   * as a synchronous throw.
   *
   * @param timeout - Seconds (floating point), rounded up to whole milliseconds. `undefined`,
   *   `null`, `Infinity`, or 9.2e9 and more: wait forever; negative: 0; `join(0)` is a poll.
   * @returns A Promise of `true` once the thread has ended, `false` when `timeout` seconds pass
   *   first (Python returns None; the boolean saves the `isAlive()` check).
   * @throws {RuntimeError} As a rejection: `ERR_THREAD_NOT_STARTED` before `start()`;
   *   `ERR_JOIN_CURRENT_THREAD` when called in the thread's own context.
   * @throws {TypeError} As a rejection: `ERR_INVALID_ARG_TYPE` when `timeout` is not a number or
   *   null.
   * @throws {RangeError} As a rejection: `ERR_OUT_OF_RANGE` when `timeout` is NaN.
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
   * The blocking join, as Python's `join()`: waits in a native timed wait (`uv_cond_timedwait`) on
   * the calling thread. Use it in synchronous code paths (an `exit` handler, say); use
   * `await join()` everywhere else.
   *
   * A function target runs on the caller's own event loop, so a blocking wait can only succeed
   * once the target (and its Promise) has settled; until then `joinSync(timeout)` throws
   * `ERR_JOIN_WOULD_DEADLOCK` at once instead of hanging, and `joinSync(0)` returns false. Once
   * the target has settled, the remaining wait is the OS thread letting go of the thread, which
   * takes microseconds. A module target's export needs nothing from the caller's loop, so there
   * the wait is real; but a Worker that dies without reaching its end (out of memory) can only tell
   * why through the caller's loop (Node's Worker `'error'` and `'exit'` events), so that is
   * `ERR_JOIN_WOULD_DEADLOCK` too (`await join()` delivers the error, then resolves).
   *
   * @param timeout - Seconds (floating point). `undefined`, `null`, `Infinity`, or 9.2e9 and
   *   more: wait forever; negative: 0, a poll.
   * @returns `true` once the thread has ended, `false` at the timeout.
   * @throws {RuntimeError} `ERR_JOIN_WOULD_DEADLOCK` as above (never for a timeout of 0);
   *   `ERR_THREAD_NOT_STARTED` before `start()`; `ERR_JOIN_CURRENT_THREAD` in the thread's own
   *   context.
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` when `timeout` is not a number or null.
   * @throws {RangeError} `ERR_OUT_OF_RANGE` when `timeout` is NaN.
   * @example
   * ```js
   * let signal;
   * const targetRan = new Promise((resolve) => { signal = resolve; });
   * const t = new BackgroundThread({ target: () => { signal(); } });
   * t.start();
   * console.log(t.joinSync(0));              // false: the target has not run yet
   * try { t.joinSync(1); } catch (error) {
   *   console.log(error.code);               // ERR_JOIN_WOULD_DEADLOCK
   * }
   * await targetRan;                         // the target has run and returned
   * console.log(t.joinSync(1), t.isAlive()); // true false
   * ```
   */
  joinSync(timeout?: number | null): boolean {
    const seconds = this.#checkJoin(timeout);
    if (this.#state === 'stopped') return true;
    const body = this.#body!;
    const refusal = body.joinSyncRefusal();
    if (refusal !== null) {
      if (seconds === 0) return false;
      throw joinWouldDeadlockError(this.#name, refusal);
    }
    const result = attach().joinSync(body.ident, seconds);
    if (result === -1) {
      if (seconds === 0) return false;
      throw joinWouldDeadlockError(this.#name, body.loopBoundReason);
    }
    return result === 1;
  }

  #checkJoin(timeout: unknown): number {
    if (this.#state === 'initial') {
      throw notStartedError();
    }
    if (currentThread() === this) throw joinCurrentError();
    return check.timeoutSeconds(timeout);
  }

  /**
   * Python's `is_alive()`: true from the return of `start()` until the OS thread has ended and
   * the loop has been told; false before and after.
   */
  isAlive(): boolean { return this.#state === 'started'; }

  /**
   * The daemon flag. A daemon thread never keeps the process alive, nor does what its target
   * opens (timers, immediates, sockets, servers, child processes: unref'd); a non-daemon thread
   * keeps it alive until it ends. Default: inherited ({@link BackgroundThreadOptions.daemon}).
   *
   * Setting it (property or `setDaemon()`) requires a boolean (else a TypeError,
   * `ERR_INVALID_ARG_TYPE`) and is allowed only before `start()`; afterwards, even once the thread
   * has ended, it throws a RuntimeError (`ERR_THREAD_ACTIVE`), as Python does.
   *
   * `start()` reads `this.daemon` once, as Python reads `self.daemon`: a subclass may override it
   * with a getter or a class field (`daemon = true`), and the value read then (a boolean, else a
   * TypeError; a throwing getter's error is thrown by `start()`, which leaves the thread
   * unstarted) is the flag the thread runs with: it decides keep-alive and unref'ing, and nothing
   * else ever calls the getter.
   */
  get daemon(): boolean { return this.#daemon; }
  set daemon(value: boolean) {
    if (this.#state !== 'initial') throw activeDaemonError();
    this.#daemon = check.boolean(value, 'daemon');
  }
  /** @internal The flag the thread runs with. */
  [kIsDaemon](): boolean { return this.#daemon; }

  /**
   * The thread's name, for identification only (several threads may share one); automatic when
   * none was given ({@link BackgroundThreadOptions.name}). Assigning (or `setName()`) converts
   * with `String()` and works at any time. The OS thread gets the name when it starts, cut to 15
   * bytes on Linux (on a UTF-8 boundary; 63 on macOS), so `ps -T` and `top -H` show it; later
   * renames change only the JavaScript name.
   */
  get name(): string { return this.#name; }
  set name(value: unknown) { this.#name = String(value); }

  /**
   * A positive integer, unique in the process (across Workers too) and never reused (Python's
   * `ident` may be reused); null before `start()`. `startNewBackgroundThread()` returns the
   * same number, and `currentThread().ident` gives it inside the target.
   */
  get ident(): number | null { return this.#ident; }
  /**
   * Python's `native_id`: the kernel's id of the OS thread (`gettid()` on Linux,
   * `pthread_threadid_np` on macOS, `GetCurrentThreadId` on Windows), as `ps -T` and `top -H` show
   * it; null before `start()`. Read before a new OS thread has run, it waits for that (natively,
   * microseconds). A module target's is null until its Worker has booted (a few milliseconds),
   * then the Worker thread's id.
   */
  get nativeId(): number | null {
    if (this.#nativeId === null && this.#state === 'started') this.#nativeId = attach().nativeId(this.#ident!);
    return this.#nativeId;
  }

  /**
   * A remote thread's job (see the README's Remote threads): `{ jobId, queue, attempts, stalls,
   * worker, enqueued }`, live figures until the thread ends; null for a thread of this process.
   */
  get remote(): RemoteJob | null { return this.#remote; }

  /**
   * What the target returned, once the thread has ended: the value its Promise resolved to, if
   * it returned one (a module target's: structured-cloned, or moved with `transfer()`).
   * `undefined` before the end, and when the target threw (see `exception`).
   */
  get result(): unknown { return this.#state === 'stopped' ? this.#result : undefined; }

  /**
   * What the target threw (or its Promise rejected with, or what ended its isolate), once the
   * thread has ended and the excepthook has seen it; the first, if there were several.
   * `undefined` before the end and when nothing was thrown.
   */
  get exception(): unknown { return this.#state === 'stopped' ? this.#exception : undefined; }

  /**
   * The code a module target's module passed to `process.exit(code)` while its thread ran (what
   * its isolate's 'exit' listeners left in `process.exitCode`), once the thread has ended. Such an
   * exit ends the thread normally, as `SystemExit` ends a Python thread: no exception, no
   * excepthook call, `result` undefined. `undefined` before the end, when the module did not
   * call `process.exit()`, and for function targets (whose `process.exit()` is the process's).
   */
  get exitCode(): number | undefined { return this.#state === 'stopped' ? this.#exitCode : undefined; }

  /**
   * `<ClassName(name, initial|started|stopped[ daemon][ ident])>`, e.g.
   * `<BackgroundThread(Thread-1 (sendReport), started daemon 2)>`, as Python's `repr()`; a
   * subclass shows its own class name. `util.inspect` and `console.log` print the same.
   */
  override toString(): string {
    let status: string = this.#state;
    if (this.#daemon) status += ' daemon';
    if (this.#ident !== null) status += ` ${this.#ident}`;
    return `<${this.constructor.name}(${this.#name}, ${status})>`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  /** @internal The OS thread asks this loop to run the target, now (src/native/loop.ts). */
  [kRun](nativeId: number): void {
    this.#nativeId ??= nativeId;
    if (this.#cancelled !== null) {  // cancelled before its target began: it never runs
      this.#dropArguments();
      attach().settled(this.#ident!);
      return;
    }
    runInThread(this, this.#daemon, () => {
      const trace = runTrace(this, 'function', this.#ident, this.#name, this.#daemon, null,
        this.#trace?.carrier);
      if (trace === null) runTarget(this.#ident!, () => this.run(), this.#events);
      else {
        runTarget(this.#ident!, () => traceRun(trace, () => this.run()),
          settling(trace, this.#events));
      }
    });
  }

  /** @internal Its native record has ended (src/native/loop.ts). */
  [kEnded](nativeId: number): void {
    if (nativeId !== 0) this.#nativeId ??= nativeId;
    // Before anyone learns the thread ended: all its run wrote, returned and threw.
    this.#body!.ended();
    if (this.#onAbort !== null) this.#signalOption!.removeEventListener('abort', this.#onAbort);
    if (this.#cancelled !== null && this.#reportCancel) reportException(this, this.#cancelled);
    this.#state = 'stopped';
    if (this.#trace !== null) {
      traceSettled(startChannel!, this.#trace,
        this.#excepted ? { error: this.#exception } : { result: this.#result });
      this.#trace = null;
    }
  }
}
