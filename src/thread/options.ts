// The BackgroundThread constructor's options: their types and contracts, and how its two forms
// (an options object, or App Engine's positional order) are read and checked.
import type { TransferListItem } from 'node:worker_threads';
import { currentIsDaemon } from './context';
import { argTypeError, groupError } from '../core/errors';
import { isModuleTarget, moduleLabel, moduleRef, type ModuleRef, type ModuleTarget } from './module-target';
import * as check from '../core/checks';
import { checkStackSize } from './settings';

/**
 * A function target: called as `target(...args)`, or `target(...args, kwargs)`, on the event loop
 * that called `start()`. It may return a Promise (or any thenable): the thread stays alive until
 * it settles, and a rejection is an exception in the thread.
 */
export type Target = (...args: any[]) => unknown;

/**
 * The options of `new BackgroundThread(options)`. Any other key throws a TypeError
 * (`ERR_INVALID_ARG_VALUE`, `Unknown BackgroundThread option "KEY"`), as Python refuses an unknown
 * keyword argument: a misspelled `deamon: true` is never silently ignored.
 */
export interface BackgroundThreadOptions {
  /**
   * Reserved, as in Python. Anything but null/undefined throws node:assert's `AssertionError`
   * (`ERR_ASSERTION`, `group argument must be None for now`).
   */
  group?: null;
  /**
   * What `run()` calls: a function ({@link Target}; it may return a Promise, or any thenable, and
   * the thread stays alive until it settles), or a module target ({@link ModuleTarget}), whose
   * export runs in its own isolate, in parallel. null/undefined: nothing to run. Anything else
   * throws a TypeError (`ERR_INVALID_ARG_TYPE`).
   */
  target?: Target | ModuleTarget | null;
  /**
   * The thread's name, converted with `String()`. Falsy (`''`, `0`, `null`, `undefined`), or a
   * value that converts to `''` (`[]`): an automatic name, `Thread-N` (counting from 1 per event
   * loop, never repeated), or `Thread-N (targetName)` when the target has a name, as Python 3.10+
   * names threads. A bound function's is the name of the function it binds; a module target's is
   * its export, or for `default` its file name, decoded (over 40 characters: the first 37 and
   * `...`).
   */
  name?: string | number | null;
  /**
   * The target's positional arguments: any iterable, copied to an array at construction and
   * spread into the target's arguments. Not iterable: a TypeError (`ERR_INVALID_ARG_TYPE`).
   */
  args?: Iterable<unknown> | null;
  /**
   * An object of named arguments (not an array); when given, passed to the target as ONE extra,
   * last argument after `args` (JavaScript has no keyword arguments: destructure it in the
   * target). Anything else but null/undefined: a TypeError (`ERR_INVALID_ARG_TYPE`).
   */
  kwargs?: Record<string, unknown> | null;
  /** Accepted and ignored (it is in App Engine's signature). */
  verbose?: unknown;
  /**
   * The daemon flag (see {@link BackgroundThread.daemon}): a boolean, else a TypeError
   * (`ERR_INVALID_ARG_TYPE`). null/undefined: inherited at construction from the flag the current
   * thread runs with (`currentThread().daemon`; a subclass's getter is not called again), false
   * at top level, as Python inherits it.
   */
  daemon?: boolean | null;
  /**
   * Bytes for the native thread's stack: 0, or an integer from 32768 (32 KiB) to 1073741824
   * (1 GiB). Omitted, null or 0: the value of `stackSize()` when `start()` runs. A function
   * target runs on the event loop, so this sizes the native thread that waits for it, not the
   * stack your JavaScript runs on. Not a number: a TypeError (`ERR_INVALID_ARG_TYPE`); out of
   * range, NaN or fractional: a RangeError (`ERR_OUT_OF_RANGE`). A non-zero value with a module
   * target (Node sizes a Worker's stack) throws a TypeError (`ERR_INVALID_ARG_VALUE`).
   */
  stackSize?: number | null;
  /**
   * Module targets only: `'warm'` (default) runs the export on an idle isolate of this loop's pool
   * when there is one (module-level state of earlier threads on it survives, as in every thread
   * pool), else on a new one, which then joins the pool (see `setIsolatePool()`); `'fresh'` runs
   * it on a new isolate used for this thread alone and ended with it (a clean module state, at a
   * Worker's cost). Another value: a TypeError (`ERR_INVALID_ARG_VALUE`); given with a function
   * target: a TypeError (`ERR_INVALID_ARG_VALUE`).
   */
  isolate?: 'warm' | 'fresh' | null;
  /**
   * Module targets only: items of `args`/`kwargs` to move into the isolate rather than copy
   * (ArrayBuffers, MessagePorts: as in `postMessage(value, transferList)`); after `start()` they
   * are detached here. An array, else a TypeError (`ERR_INVALID_ARG_TYPE`); non-empty with a
   * function target (which shares this loop's memory): a TypeError (`ERR_INVALID_ARG_VALUE`).
   * Listing what cannot be transferred (a number, a duplicate) makes `start()` throw a TypeError
   * (`ERR_INVALID_ARG_VALUE`, on every Node version), with nothing moved.
   */
  transfer?: TransferListItem[] | null;
  /**
   * Cancels the thread when it aborts, as `thread.cancel(signal.reason)` does; already aborted at
   * `start()`: the thread starts and ends cancelled, its target never run. An AbortSignal, else a
   * TypeError (`ERR_INVALID_ARG_TYPE`).
   */
  signal?: AbortSignal | null;
  /**
   * Module targets (remote ones too): seconds a cancelled thread's export has to settle once its
   * signal has aborted, before its isolate is terminated (and never reused). Default 5; 0:
   * terminated at once. A function target cannot be stopped from outside (it shares this loop):
   * given with one, a TypeError (`ERR_INVALID_ARG_VALUE`). Not a number: a TypeError; negative
   * or NaN: a RangeError (`ERR_OUT_OF_RANGE`).
   */
  cancelGrace?: number | null;
  /**
   * Whether the excepthook sees the thread's cancellation (its ThreadCancelledError) when it ends;
   * default false: the cancelling code asked for it, so it is no uncaught error (as an aborted
   * piscina task only rejects its own Promise). A boolean, else a TypeError.
   */
  reportCancel?: boolean | null;
}

/** A cancelled module thread's grace period (seconds), unless `cancelGrace` gives another. */
export const DEFAULT_CANCEL_GRACE = 5;

const OPTION_KEYS = new Set(['group', 'target', 'name', 'args', 'kwargs', 'verbose', 'daemon', 'stackSize', 'isolate', 'transfer',
  'signal', 'cancelGrace', 'reportCancel']);
const POSITIONAL_KEYS = ['group', 'target', 'name', 'args', 'kwargs', 'verbose'] as const;

let lastAutoName = 0;

// One constructor, two forms: an options object alone, or App Engine's positional order.
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

/** What a thread keeps of its constructor's arguments, checked. */
export interface ThreadSpec {
  target: Target | null;
  module: ModuleRef | null;  // a module target: the body is a Worker
  args: unknown[];
  kwargs: Record<string, unknown> | null;
  daemon: boolean;
  stackSize: number;  // 0: stackSize()'s value at start()
  fresh: boolean;     // a module target on an isolate of its own
  transfer: TransferListItem[];
  name: string;
  signal: AbortSignal | null;
  cancelGrace: number;  // seconds
  reportCancel: boolean;
}

/** Reads and checks the constructor's arguments, in the order Python checks them. */
export function readThreadOptions(params: unknown[]): ThreadSpec {
  const {
    group, target, name, args, kwargs, daemon, stackSize, isolate, transfer, signal, cancelGrace,
    reportCancel,
  } = readOptions(params);
  if (group !== null && group !== undefined) {
    throw groupError();
  }
  let module: ModuleRef | null = null;
  let fn: Target | null = null;
  if (isModuleTarget(target)) module = moduleRef(target);
  else fn = check.target(target);
  const spec: ThreadSpec = {
    target: fn,
    module,
    args: check.args(args),
    kwargs: check.kwargs(kwargs),
    daemon: daemon === null || daemon === undefined ? currentIsDaemon() : check.boolean(daemon, 'daemon'),
    stackSize: stackSize === undefined || stackSize === null ? 0 : checkStackSize(stackSize, 'stackSize'),
    fresh: false,
    transfer: [],
    name: '',
    signal: check.signalOption(signal, 'signal'),
    cancelGrace: DEFAULT_CANCEL_GRACE,
    reportCancel: reportCancel === undefined || reportCancel === null ? false : check.boolean(reportCancel, 'reportCancel'),
  };
  if (cancelGrace !== undefined && cancelGrace !== null) {
    spec.cancelGrace = check.seconds(cancelGrace, 'cancelGrace');
    if (module === null) {
      throw argTypeError('The "cancelGrace" option applies to a module target only: a function target ' +
        'shares this loop, and is cancelled through its signal alone', 'ERR_INVALID_ARG_VALUE');
    }
  }
  if (isolate !== undefined && isolate !== null) {
    if (isolate !== 'warm' && isolate !== 'fresh') {
      throw argTypeError(`The "isolate" option must be 'warm' or 'fresh'. ${check.received(isolate)}`, 'ERR_INVALID_ARG_VALUE');
    }
    if (module === null) {
      throw argTypeError('The "isolate" option applies to a module target only', 'ERR_INVALID_ARG_VALUE');
    }
    spec.fresh = isolate === 'fresh';
  }
  if (transfer !== undefined && transfer !== null) {
    if (!Array.isArray(transfer)) {
      throw argTypeError(`The "transfer" option must be an array. ${check.received(transfer)}`);
    }
    if (module === null && transfer.length > 0) {
      throw argTypeError('The "transfer" option applies to a module target only: a function target ' +
        'shares this loop\'s memory', 'ERR_INVALID_ARG_VALUE');
    }
    spec.transfer = [...transfer];
  }
  if (module?.remote && spec.transfer.length > 0) {
    throw argTypeError('The "transfer" option does not apply to a remote thread: its job is serialised', 'ERR_INVALID_ARG_VALUE');
  }
  if (module !== null && spec.stackSize !== 0) {
    throw argTypeError('The "stackSize" option does not apply to a module target: Node sizes a ' +
      'Worker\'s stack', 'ERR_INVALID_ARG_VALUE');
  }
  // As Python's `str(name or _newname())`, and a name that prints as '' (`[]`) is no name either.
  spec.name = (name ? String(name) : '') || autoName(fn, module);
  return spec;
}

function autoName(target: Target | null, module: ModuleRef | null): string {
  const name = `Thread-${++lastAutoName}`;
  let targetName: unknown = module === null ? '' : moduleLabel(module);
  try { targetName ||= target?.name ?? ''; } catch { /* a throwing name getter */ }
  // A bound function is named after the function it binds, as Python names a bound method.
  if (typeof targetName === 'string') targetName = targetName.replace(/^(bound )+/, '');
  return typeof targetName === 'string' && targetName !== '' ? `${name} (${targetName})` : name;
}

