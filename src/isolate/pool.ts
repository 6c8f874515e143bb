// This event loop's isolates: Workers running src/isolate/runner.ts, each running one module
// thread at a time. A warm isolate goes back to the idle set when its thread ends, for the next
// one, if that thread left nothing behind (the runner decides, before the thread ends; else the
// isolate retires: see module-runner.ts); a module thread never waits for one (starting is
// running, as with an OS thread) unless `maxIsolates` caps them. Idle isolates are unref'd: they
// never hold the process open. A retired isolate that runs on for the threads its thread left is
// ref'd while non-daemon ones run (joinAll() waits for it too: isolatesHolding()).
//
// Policy (setIsolatePool): up to `maxIdle` idle isolates are kept without a time limit; more (a
// burst leaves as many as it had threads) are kept for `idleTimeout` seconds unused, so that
// repeated bursts land on warm isolates, then ended, least recently used first. An isolate that
// died (its thread called process.exit(), left an uncaught error, ran out of memory, or was
// terminated) is never reused. A fresh isolate (the `isolate: 'fresh'` option) runs one thread
// and ends with it, outside the pool and its cap. Isolates the pool ends (trimmed, or idle when
// this loop runs out of work) end by process.exit(), so that their modules' 'exit' listeners run.
import * as os from 'node:os';
import { types } from 'node:util';
import {
  MessageChannel, SHARE_ENV, Worker, receiveMessageOnPort, type MessagePort, type TransferListItem,
} from 'node:worker_threads';
import { BackgroundThreadError } from '../core/errors';
import { attach } from '../native/loop';
import { RUNNER } from '../core/own-files';
import { decodeThrown, type Thrown } from '../core/thrown';
import type { IsolateData, Order, Report, RunMessage, RunReport } from './protocol';
import { afterProcessEvent } from '../core/process-events';
import { recordTimes } from './stats';

/** The pool's settings (setIsolatePool). */
export interface PoolPolicy {
  /** Idle isolates kept without a time limit. Default: `os.availableParallelism()`. */
  maxIdle: number;
  /** Seconds an idle isolate beyond `maxIdle` is kept unused before it is ended. Default 10. */
  idleTimeout: number;
  /** Isolates (busy and idle) at most; past it a module thread's start waits. Default Infinity. */
  maxIsolates: number;
}

export const poolPolicy: PoolPolicy = {
  maxIdle: typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length,
  idleTimeout: 10,
  maxIsolates: Infinity,
};

/**
 * What startRun throws when a run's args, kwargs or transfer list cannot be handed over:
 * `refusal` is what postMessage or structuredClone threw. Node's class and code for one refusal
 * differ between its versions and between the two calls (a number in the transfer list:
 * postMessage's TypeError ERR_INVALID_TRANSFER_OBJECT on Node 18 and 20, a DataCloneError on 22
 * and later; structuredClone's TypeError ERR_INVALID_ARG_TYPE on 22 and later), so that the
 * caller can give it one code of its own.
 */
export class HandOverRefused extends Error {
  constructor(readonly refusal: unknown) {
    super('the run could not be handed over to an isolate');
  }
}

function handOver<T>(transfer: readonly TransferListItem[], send: () => T): T {
  try {
    refuseDetached(transfer);
    return send();
  } catch (error) {
    throw new HandOverRefused(error);
  }
}

// A detached ArrayBuffer in the transfer list (one an earlier start() moved): Node 22 and later
// refuse it (a DataCloneError), Node 18 and 20 send it as an empty one. Refused on every version.
function refuseDetached(transfer: readonly TransferListItem[]): void {
  for (const item of transfer) {
    if (!types.isArrayBuffer(item)) continue;
    try {
      new Uint8Array(item, 0, 0);  // throws on a detached ArrayBuffer only
    } catch {
      throw new DOMException('An ArrayBuffer in the transfer list is detached (moved already)', 'DataCloneError');
    }
  }
}

/** One module thread's run, as an isolate carries it out. */
export interface Run {
  message: RunMessage;
  transfer: readonly TransferListItem[];
  /** Each report of the run (output excepted), in order. */
  onReport(report: RunReport): void;
  /** The isolate failed under the run (a Worker 'error': out of memory). */
  onIsolateError(error: unknown): void;
  /** Set while the run waits for a free isolate (maxIsolates reached). */
  queued: boolean;
  /** The isolate carrying it out, once it has one. */
  isolate: Isolate | null;
  /** Its thread was cancelled: its isolate's end ends it, never restarted elsewhere. */
  cancelled: boolean;
  /** A cancelled run's grace period, until its isolate is terminated. */
  grace: NodeJS.Timeout | null;
  /** When start() handed it to the pool (performance.now()): its wait begins (./stats.ts). */
  startedAt?: number;
  /** When an isolate was handed it (a new one boots with it): its wait ends, its run begins. */
  takenAt?: number;
}

class Isolate {
  readonly worker: Worker;
  readonly port: MessagePort;
  readonly exited = new Int32Array(new SharedArrayBuffer(4));  // IsolateData.exited
  run: Run | null = null;   // the run it carries out now
  // The run before, to which reports between runs belong; weak, so that an idle isolate keeps no
  // ended thread (nor its result) alive. Strong while the isolate runs on for what it left.
  last: WeakRef<Run> | null = null;
  leftBy: Run | null = null;
  idleSince = 0;
  dead = false;
  errored = false;  // a Worker 'error' was delivered to its run
  holding = false;  // retired, running non-daemon threads of its own: ref'd, in `holders`
  ranSinceCollect = false;  // idle after a run, and not yet told to look at its memory

  constructor(readonly fresh: boolean) {
    const { port1, port2 } = new MessageChannel();
    try {
      // SHARE_ENV: a module thread sees and changes this process's environment, as a Python
      // thread shares os.environ (a Worker's default is a copy taken when it boots).
      this.worker = new Worker(RUNNER, {
        env: SHARE_ENV, workerData: { port: port2, exited: this.exited } satisfies IsolateData,
        transferList: [port2],
      });
    } catch (error) {
      port1.close();
      port2.close();
      throw error;
    }
    this.port = port1;
    port1.on('message', (report: Report) => { this.route(report); });
    // After the listener, which refs the port: an isolate never holds the process open (a
    // running non-daemon thread does, natively, as every thread).
    port1.unref();
    this.worker.unref();
    // Never an unhandled 'error': it is the run's exception. Node emits it just before 'exit'.
    this.worker.on('error', (error) => {
      this.errored = true;
      (this.run ?? this.leftBy ?? this.last?.deref())?.onIsolateError(error);
    });
    this.worker.on('exit', () => { isolateExited(this); });
    watchLoopEnd();
  }

  route(report: Report): void {
    if (report.kind === 'exiting') {
      this.retire();
      return;
    }
    if (report.kind === 'retiring') {
      this.retire();
      this.leftBy ??= this.run;
      this.hold(report.holding);
      return;
    }
    if (report.kind === 'output') {
      try {
        (report.stream === 'stdout' ? process.stdout : process.stderr).write(report.chunk);
      } catch { /* this process's stream is closed: the output has nowhere to go */ }
      return;
    }
    const run = this.run?.message.ident === report.ident
      ? this.run : this.leftBy ?? this.last?.deref();
    if (run?.message.ident === report.ident) run.onReport(report);
    else if (report.kind === 'thrown') reportStray(decodeThrown(report.thrown));  // its thread is gone
    // A report of the run before, after its end, is an uncaught error of its module: the runner
    // exits right after posting it.
    if (run !== this.run) this.retire();
  }

  /** Holds this loop open (and joinAll() waits) while it runs non-daemon threads of its own. */
  hold(on: boolean): void {
    if (on === this.holding) return;
    this.holding = on;
    if (on) {
      this.worker.ref();
      holders.add(this);
      return;
    }
    this.worker.unref();
    holders.delete(this);
    if (holders.size === 0 && released !== null) {
      released.resolve();
      released = null;
    }
  }

  // Dying (or ended by us): out of the pool and the idle set at once, not at its Worker's 'exit'
  // (which comes later), so that it is neither handed the next run nor counted meanwhile.
  retire(): void {
    this.dead = true;
    pooled.delete(this);
    const at = idle.indexOf(this);
    if (at >= 0) idle.splice(at, 1);
  }

  /** Hands the run over; throws (HandOverRefused) with nothing sent. */
  begin(run: Run): void {
    handOver(run.transfer, () => { this.port.postMessage(run.message, run.transfer); });
    run.takenAt = performance.now();
    this.run = run;
    run.isolate = this;
    run.queued = false;
  }

  /** Reads what the run posted to the end, synchronously: it is all there once it has ended. */
  drain(): void {
    for (let next = receiveMessageOnPort(this.port); next !== undefined;
      next = receiveMessageOnPort(this.port)) {
      this.route(next.message as Report);
    }
  }

  /** Ends an isolate that runs nothing: it calls process.exit(), so its 'exit' listeners run. */
  end(): void {
    this.retire();
    ending.add(this);
    this.port.postMessage({ kind: 'end' } satisfies Order);
  }
}

// Where an error goes whose thread has ended and been let go of: the excepthook, with no thread.
// Set by src/thread/excepthook.ts, a layer above, which the package loads before any isolate.
let reportStray: (error: unknown) => void = () => {};

/** Sets where errors of forgotten threads go (src/thread/excepthook.ts). */
export function reportStraysTo(report: (error: unknown) => void): void {
  reportStray = report;
}

const pooled = new Set<Isolate>();  // warm isolates, busy or idle
const idle: Isolate[] = [];          // most recently used last
const waiting: Run[] = [];           // runs waiting for an isolate (maxIsolates)
const ending = new Set<Isolate>();   // told to end, not yet exited
const holders = new Set<Isolate>();  // Isolate.holding
let released: { promise: Promise<void>; resolve: () => void } | null = null;
let sweep: NodeJS.Timeout | null = null;

/**
 * Null when no isolate of this loop runs non-daemon threads that an ended thread left there;
 * else a Promise that resolves once none does (joinAll() waits for it).
 */
export function isolatesHolding(): Promise<void> | null {
  if (holders.size === 0) return null;
  if (released === null) {
    let resolve!: () => void;
    const promise = new Promise<void>((settle) => { resolve = settle; });
    released = { promise, resolve };
  }
  return released.promise;
}

/**
 * Starts `run` on an idle isolate, a new one (fresh, or below the cap), or queues it. Throws,
 * with nothing left running or queued: a HandOverRefused when its arguments cannot be cloned or
 * its transfer list transferred, or the Worker constructor's error.
 */
export function startRun(run: Run, fresh: boolean): void {
  run.startedAt ??= performance.now();  // kept when a run that never began starts again
  if (fresh) {
    const isolate = new Isolate(true);
    try {
      isolate.begin(run);
    } catch (error) {
      isolate.end();
      throw error;
    }
    return;
  }
  let isolate = idle.pop();
  if (isolate === undefined && pooled.size < poolPolicy.maxIsolates) isolate = newPooled();
  if (isolate === undefined) {
    // Cloned now, so that what cannot be cloned is an error of start(); moved values are moved.
    const { args, kwargs } = handOver(run.transfer, () => structuredClone(
      { args: run.message.args, kwargs: run.message.kwargs }, { transfer: [...run.transfer] }));
    Object.assign(run, { message: { ...run.message, args, kwargs }, transfer: [] });
    run.queued = true;
    waiting.push(run);
    return;
  }
  try {
    isolate.begin(run);
  } catch (error) {
    becomeIdle(isolate);
    throw error;
  }
}

/**
 * The run's thread was cancelled. Queued: it leaves the queue and its thread ends, unrun. Running:
 * its isolate's signal aborts with `reason`; if the run has not ended `grace` seconds later, the
 * isolate is terminated (the run ends with it, at its 'exit') and never reused.
 */
export function cancelRun(run: Run, reason: Thrown, grace: number): void {
  run.cancelled = true;
  if (run.queued) {
    waiting.splice(waiting.indexOf(run), 1);
    run.queued = false;
    attach().finishAdopted(run.message.ident);
    return;
  }
  const isolate = run.isolate;
  if (isolate === null || isolate.run !== run) return;  // it has ended meanwhile
  isolate.port.postMessage({ kind: 'cancel', ident: run.message.ident, reason } satisfies Order);
  const terminate = (): void => {
    if (isolate.run !== run) return;
    isolate.retire();
    void isolate.worker.terminate();
  };
  if (grace === 0) terminate();
  // Unref'd: a cancelled non-daemon thread holds the process open by its native record anyway.
  else if (Number.isFinite(grace)) {
    run.grace = setTimeout(terminate, Math.min(grace * 1000, 2 ** 31 - 1)).unref();
  }
}

/** The run's thread has ended: its reports are read to the end, and its isolate freed. */
export function runEnded(run: Run): void {
  if (run.grace !== null) clearTimeout(run.grace);
  const isolate = run.isolate;
  if (isolate === null) {  // it never left the queue (its creator's env is going away)
    const at = waiting.indexOf(run);
    if (at >= 0) waiting.splice(at, 1);
    return;
  }
  recordTimes(run.startedAt!, run.takenAt!, performance.now());
  isolate.drain();
  if (isolate.run === run) {
    isolate.run = null;
    isolate.last = new WeakRef(run);
  }
  // A finished run keeps nothing of its thread's arguments (the isolate dropped its copy too).
  run.message.args = [];
  run.message.kwargs = null;
  run.transfer = [];
  if (isolate.dead) return;
  if (isolate.fresh) {
    isolate.end();
    return;
  }
  becomeIdle(isolate);
}

function becomeIdle(isolate: Isolate): void {
  // Over a lowered maxIsolates: ended, rather than take a waiting run or stay idle (which would
  // let more threads run at once than the cap allows).
  if (pooled.size > poolPolicy.maxIsolates) {
    isolate.end();
    return;
  }
  const next = waiting.shift();
  if (next !== undefined) {
    isolate.begin(next);  // cloned when it was queued: cannot throw
    return;
  }
  isolate.idleSince = performance.now();
  idle.push(isolate);
  isolate.ranSinceCollect = true;
  collectSoon();
  // A sweep already scheduled is due no later than this isolate's (it went idle earlier).
  if (sweep === null) trimIdle();
}

function newPooled(): Isolate {
  const isolate = new Isolate(false);
  pooled.add(isolate);
  return isolate;
}

// Isolates idle for COLLECT_MS since their last run are told to look at the memory it left
// (src/isolate/runner.ts): one unref'd timer for the pool, so that a busy isolate is never asked.
const COLLECT_MS = 100;
let collectTimer: NodeJS.Timeout | null = null;

function collectSoon(): void {
  if (collectTimer !== null) return;
  collectTimer = setTimeout(() => {
    collectTimer = null;
    const now = performance.now();
    let later = false;
    for (const isolate of idle) {
      if (!isolate.ranSinceCollect) continue;
      if (now - isolate.idleSince < COLLECT_MS) {
        later = true;  // idle since the timer was set: its turn comes at the next one
        continue;
      }
      isolate.ranSinceCollect = false;
      isolate.port.postMessage({ kind: 'collect' } satisfies Order);
    }
    if (later) collectSoon();
  }, COLLECT_MS);
  collectTimer.unref();
}

let watching = false;

// When this loop has run out of work ('beforeExit': the process, or the Worker that is the
// creator, is about to end), Node would terminate the idle isolates, so that their modules'
// 'exit' listeners never ran: they are ended instead, and the loop waits for their JavaScript to
// end, up to EXIT_WAIT_MS in all (an 'exit' listener that hangs is cut off then). A blocking wait,
// so that the loop does not come back to life and emit 'beforeExit' to the application twice;
// what they wrote meanwhile is read from their ports here. Not on process.exit(), which ends
// everything at once, as os._exit() does.
const EXIT_WAIT_MS = 5000;

function watchLoopEnd(): void {
  if (watching) return;
  watching = true;
  afterProcessEvent('beforeExit', () => {
    while (idle.length > 0) idle[0].end();
    const deadline = performance.now() + EXIT_WAIT_MS;
    for (const isolate of ending) {
      Atomics.wait(isolate.exited, 0, 0, Math.max(deadline - performance.now(), 0));
      isolate.drain();
    }
  });
}

// Runs waiting under the cap get new isolates while the cap allows.
function startWaiting(): void {
  while (waiting.length > 0 && pooled.size < poolPolicy.maxIsolates) {
    newPooled().begin(waiting.shift()!);
  }
}

function isolateExited(isolate: Isolate): void {
  isolate.retire();
  isolate.drain();  // what it wrote last (its 'exit' listeners)
  isolate.port.close();
  ending.delete(isolate);
  isolate.hold(false);
  // The run it carried out ends with it (after a clean process.exit() its teardown did already).
  const run = isolate.run;
  if (run !== null) {
    const neverBegan = !isolate.errored && attach().nativeId(run.message.ident) === null;
    if (!neverBegan || run.cancelled || !restarted(isolate, run)) {
      attach().finishAdopted(run.message.ident);
    }
  }
  if (!isolate.fresh) startWaiting();
}

/**
 * A run handed to a warm idle isolate that was already dying (what an earlier thread's module
 * left unref'd there threw or called process.exit(), not yet reported here) never began: never
 * bound (no nativeId), and no Worker 'error'. It starts again on another isolate, since nothing
 * of it ran; except when it moved values (its transfer list went with the dead isolate): then it
 * fails, as Python's ProcessPoolExecutor fails the work of a pool process that died
 * (BrokenProcessPool). True when it was started again.
 */
function restarted(isolate: Isolate, run: Run): boolean {
  const { url, exportName } = run.message;
  isolate.run = null;
  run.isolate = null;
  if (isolate.last !== null && run.transfer.length === 0) {
    try {
      startRun(run, isolate.fresh);
      return true;
    } catch (error) {
      run.onIsolateError(error);  // no isolate can be had (the Worker constructor's error)
      return false;
    }
  }
  const message = `module target ${url} (export "${exportName}") did not run: its isolate ended ` +
    "before the run could begin (an uncaught error or process.exit() that an earlier thread's " +
    'module left behind), and the values it moved (its transfer list) went with it';
  run.onIsolateError(new BackgroundThreadError(message, { code: 'ERR_MODULE_TARGET_ISOLATE_ENDED' }));
  return false;
}

// Ends idle isolates beyond maxIdle that have been unused for idleTimeout, oldest first, and
// schedules the next look while any are left. Idle isolates beyond a lowered maxIsolates end at
// once, oldest first: kept, they would take runs past the cap.
function trimIdle(): void {
  if (sweep !== null) {
    clearTimeout(sweep);
    sweep = null;
  }
  while (idle.length > 0 && pooled.size > poolPolicy.maxIsolates) idle[0].end();
  const now = performance.now();
  const timeoutMs = poolPolicy.idleTimeout * 1000;
  while (idle.length > poolPolicy.maxIdle && now - idle[0].idleSince >= timeoutMs) idle[0].end();
  if (idle.length > poolPolicy.maxIdle && Number.isFinite(timeoutMs)) {
    sweep = setTimeout(trimIdle, Math.max(idle[0].idleSince + timeoutMs - now, 1)).unref();
  }
}

/** Applies new settings: idle isolates beyond the new limits go at once or on their timeout. */
export function configurePool(settings: Partial<PoolPolicy>): void {
  Object.assign(poolPolicy, settings);
  trimIdle();
  startWaiting();
}

/** Counts of this loop's warm isolates. */
export function poolCounts(): { idle: number; busy: number; waiting: number } {
  return { idle: idle.length, busy: pooled.size - idle.length, waiting: waiting.length };
}
