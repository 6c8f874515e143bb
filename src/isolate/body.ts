// The isolate body: a module target's run on an isolate (a worker_threads Worker) on its own OS
// thread. This is the creator's half: starting the run on an isolate (src/isolate/pool.ts), and
// turning what the isolate reports into the thread's result and exceptions. The isolate's half is
// src/isolate/runner.ts, what they say to each other src/isolate/protocol.ts; the native record
// that makes join/joinSync work is native/adopted.
import type { TransferListItem } from 'node:worker_threads';
import { BackgroundThreadError, argTypeError, startFailedError } from '../core/errors';
import { HandOverRefused, cancelRun, runEnded, startRun, type Run } from './pool';
import { attach } from '../native/loop';
import { kTransfer, type RunReport, type Transferring } from './protocol';
import { checkRunner } from '../core/own-files';
import { decodeThrown, encodeThrown } from '../core/thrown';
import { received } from '../core/checks';
import type { ThreadBody, ThreadEvents, ThreadStart } from '../thread/body';
import type { ModuleRef } from '../thread/module-target';

/**
 * Starts a module target's thread: adopts a native record for it and hands the run to an isolate
 * (src/isolate/pool.ts). Nothing is left running when it throws: a TypeError
 * (ERR_INVALID_ARG_VALUE) when args or kwargs cannot be structured-cloned or the transfer list
 * names what cannot be transferred (whatever class and code this Node version gives that), a
 * BackgroundThreadError (ERR_BUNDLED) when the runner is not beside this code, or the start
 * error of an isolate that cannot be created.
 */
export function startModuleThread(ref: ModuleRef, start: ThreadStart,
  events: ThreadEvents): ThreadBody {
  checkRunner();  // ERR_BUNDLED (bundled JS) before anything is adopted
  const loop = attach();
  const ident = loop.adopt(start.name, start.daemon, start.thread);
  const run: Run = {
    message: {
      kind: 'run', ident, name: start.name, daemon: start.daemon, url: ref.url, exportName: ref.exportName,
      args: start.args, kwargs: start.kwargs, fresh: start.fresh,
      ...(start.carrier === null ? {} : { carrier: start.carrier }),
    },
    transfer: start.transfer,
    onReport: (report) => {
      if (report.kind === 'progress') events.onProgress(report.value);
      else if (report.kind === 'result') events.onResult(report.value);
      else if (report.kind === 'exitCode') events.onExitCode?.(report.code);
      else events.onException(exceptionOf(report, ref));
    },
    onIsolateError: (error) => { events.onException(error); },
    queued: false,
    isolate: null,
    cancelled: false,
    grace: null,
  };
  try {
    startRun(run, start.fresh);
  } catch (error) {
    loop.dropAdopted(ident);
    if (error instanceof HandOverRefused) {
      const { refusal } = error;
      // Node's refusal: a DataCloneError, or (by Node version and path) a TypeError of its own
      // code.
      if ((refusal as Error | null)?.name === 'DataCloneError' || refusal instanceof TypeError) {
        throw Object.assign(argTypeError(
          `cannot start ${start.name}: the args and kwargs of a module target must be structured-cloneable ` +
          `(${(refusal as Error).message})`, 'ERR_INVALID_ARG_VALUE'), { cause: refusal });
      }
      throw startFailedError(start.name, refusal);  // what a getter in the args threw, say
    }
    if (error instanceof TypeError) throw error;  // Node's own check of the Worker's options
    throw startFailedError(start.name, error);
  }
  return {
    ident,
    joinSyncRefusal: () => (run.queued
      ? 'it waits for a free isolate (setIsolatePool maxIsolates), which only this event loop can give it'
      : null),
    loopBoundReason: 'its Worker ended without running to its end (out of memory?), and only this ' +
      'event loop can deliver why',
    // Its end has arrived: reads the rest of its reports, then frees its isolate.
    ended: () => { runEnded(run); },
    cancel: (error, grace) => { cancelRun(run, encodeThrown(error), grace); },
  };
}

/**
 * Marks a module target's return value (or a function target's) to be moved, not copied: the
 * thread's `result` is `value`, and the `transferList` items (ArrayBuffers, MessagePorts, ...)
 * are transferred with it, as in `postMessage(value, transferList)`.
 *
 * @param value - What the target returns.
 * @param transferList - What in `value` to move; an array, else a TypeError
 *   (`ERR_INVALID_ARG_TYPE`).
 * @returns A wrapper the thread unwraps: return it from the target as it is.
 * @example
 * ```js
 * export function render(width, height) {
 *   const pixels = new Uint8Array(width * height * 4);
 *   // ... fill it ...
 *   return transfer(pixels, [pixels.buffer]);   // thread.result is pixels, moved
 * }
 * ```
 */
export function transfer<T>(value: T, transferList: readonly TransferListItem[]): T {
  if (!Array.isArray(transferList)) {
    throw argTypeError(`The "transferList" argument must be an array. ${received(transferList)}`);
  }
  return { [kTransfer]: [...transferList], value } as Transferring as T;
}

function exceptionOf(report: Exclude<RunReport, { kind: 'result' | 'exitCode' | 'progress' }>, ref: ModuleRef): unknown {
  const where = `module target ${ref.url} (export "${ref.exportName}")`;
  switch (report.kind) {
    case 'load':
      return new BackgroundThreadError(`cannot load ${where}: ${report.message}`,
        { code: 'ERR_MODULE_TARGET_LOAD' });
    case 'export':
      return argTypeError(`${where}: ${report.message}`, 'ERR_MODULE_TARGET_EXPORT');
    default:
      return decodeThrown(report.thrown);
  }
}
