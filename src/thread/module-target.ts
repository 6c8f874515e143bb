// A module target's description: `{ module, export, remote }`, as a thread's target (see the
// TSDoc below), checked once into a ModuleRef. What runs it is a body: an isolate
// (src/isolate/body.ts) or, remote, a job (src/remote/body.ts).
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { argTypeError } from '../core/errors';
import { received } from '../core/checks';
import { remoteSpec, type RemoteJobOptions, type RemoteSpec } from '../remote/options';

/**
 * A module target, the `target` of a BackgroundThread or of `startNewBackgroundThread()`: the
 * thread runs the module's export in its own V8 isolate on its own OS thread (a `worker_threads`
 * Worker), in parallel with the event loop, with the same class and the same rules. On a warm
 * isolate it starts in tens of microseconds; a new isolate costs a Worker (tens of milliseconds
 * to start); each isolate holds some 8 MiB while it lives, and arguments and result are cloned:
 * use it for CPU-bound work; a function target suits I/O-bound work and anything that touches
 * the caller's objects.
 * Any key but `module`, `export` and `remote` throws a TypeError (`ERR_INVALID_ARG_VALUE`,
 * `Unknown module target key "KEY"`), and so do properties that cannot be read
 * (`ERR_INVALID_ARG_TYPE`).
 *
 * - Arguments: `args` and `kwargs` are structured-cloned into the isolate when `start()` runs (a
 *   `SharedArrayBuffer` is shared, not copied; a class instance arrives as a plain object; the
 *   `transfer` option moves what it lists). A value that cannot be cloned (a function, a symbol)
 *   is a TypeError (`ERR_INVALID_ARG_VALUE`) from `start()`, which leaves the thread unstarted.
 *   What the export returns (resolves to) is cloned back into `thread.result` (moved, with
 *   `transfer()`); a result that cannot be cloned is the thread's exception
 *   (`ERR_MODULE_TARGET_RESULT`).
 * - Isolates: by default a warm one (see `setIsolatePool()`): the module is imported once per
 *   isolate and its module-level state outlives the thread, for the next thread on that isolate
 *   (a warm isolate's globals, prototypes and `process` are shared by every module run there;
 *   `process.env` is the process's own). It is reused only if the thread left nothing pending
 *   there (ref'd timers, immediates, handles, requests, live threads of its own): else it ends
 *   (its 'exit' listeners run) with what was left, or runs on, never reused, for the threads the
 *   export started (non-daemon ones hold the process open, and `joinAll()` waits). The README's
 *   Warm isolates says it all. `isolate: 'fresh'` gives the thread an isolate of its own, ended
 *   with it. An isolate whose thread ended uncleanly is never reused.
 * - A CommonJS module's name that Node's static analysis misses is looked up on `module.exports`.
 * - The end: the export may be sync or async; its settling ends the thread. An uncaught error
 *   ends it too, and its isolate; so does `process.exit(code)` in the module, which ends the
 *   thread normally, as `SystemExit` ends a Python thread (no exception, no excepthook call), with
 *   the code as `thread.exitCode`. "Ended" means all the run
 *   wrote, returned and threw has been handed to the creator. `join()` and `joinSync()` are the
 *   same native waits as for other threads, and `joinSync()` really waits, since the export needs
 *   nothing from the caller's loop (but see `joinSync()` for an isolate that dies out of memory,
 *   and for a thread queued under `maxIsolates`). How: `start()` registers a native thread record,
 *   as for any thread, and hands the run to an isolate, whose environment binds to that record
 *   (and names its OS thread); when the export has settled the isolate finishes the record; an
 *   isolate's teardown (after a clean `process.exit()`) or its `'exit'` event in the creator
 *   (out of memory) finishes a run it could not finish itself.
 * - Output: what the module writes to `process.stdout` and `process.stderr` (`console.log`
 *   included) is written to the creator's streams, in order with its exceptions, as it comes and
 *   at the latest before the thread is seen to end: when `join()`, `joinSync()` or `joinAll()`
 *   return, all of it has been written, so `process.exit()` right after loses nothing.
 * - Exceptions: what the export throws or rejects with goes to the creator's excepthook, on the
 *   creator's loop, before `join()` resolves, with `args.thread` the creator's thread object. An
 *   error arrives whole (src/core/thrown.ts): its class (built-in ones, AggregateError with its
 *   `errors`, DOMException, the package's; a custom class as the nearest of those), name, message,
 *   stack, own primitive properties (`code` of any type) and cause; a value that cannot be cloned
 *   arrives as the text the default hook prints for it. A module that cannot be loaded is a
 *   BackgroundThreadError (`ERR_MODULE_TARGET_LOAD`), a missing or non-function export a TypeError
 *   (`ERR_MODULE_TARGET_EXPORT`); both name the module URL and the export. An error the Worker
 *   raises outside the export (a timer of the module throwing, say) is reported the same way, and
 *   so is a Worker that runs out of memory (`ERR_WORKER_OUT_OF_MEMORY`); neither becomes an
 *   unhandled Worker `'error'`, and both reach the hook before any join returns; the first of them
 *   is `thread.exception`, final once `join()` has resolved. A thread handed to an idle isolate
 *   that such an error (of an unref'd leftover) was already ending starts again on another isolate,
 *   or, when it moved values, fails with a BackgroundThreadError
 *   (`ERR_MODULE_TARGET_ISOLATE_ENDED`).
 * - Inside the module, `currentThread()` (and `mainThread()`, since that loop is this thread's)
 *   answers with the thread's name, ident and daemon flag (a new identity for each thread, also on
 *   a reused isolate), provided the module imports this package from the same copy the runner loads
 *   (the package's own `dist/`, normally the one in `node_modules`); threads the module starts
 *   inherit its daemon flag. That object lives in the Worker's isolate: renaming it does not rename
 *   the creator's object.
 * - The thread object: `name` (the Worker's OS thread takes it, cut to 15 bytes on Linux), `ident`,
 *   `isAlive()`, `daemon` (isolates are unref'd: only a running non-daemon thread holds the process
 *   open), `enumerate()`, `joinAll()` and the cap of `setMaxBackgroundThreads()` work as for any
 *   thread; `nativeId` is null until an isolate runs the thread (it may repeat across threads on
 *   one isolate, as kernel ids do); the `stackSize` option does not apply (a TypeError,
 *   `ERR_INVALID_ARG_VALUE`: Node sizes a Worker's stack), nor does `stackSize()`; `run()` throws a
 *   RuntimeError (`ERR_MODULE_TARGET_RUN`).
 *
 * @example
 * ```js
 * // primes.mjs
 * export function countPrimes(limit, { report }) { ... }
 *
 * // main.mjs
 * const threads = [2e6, 3e6].map((limit) => new BackgroundThread({
 *   target: { module: new URL('./primes.mjs', import.meta.url), export: 'countPrimes' },
 *   args: [limit],
 *   kwargs: { report: true },
 * }));
 * threads.forEach((t) => t.start());   // both run at once, on two cores
 * console.log(await Promise.all(threads.map((t) => t.join())));  // [ true, true ]
 * ```
 */
export interface ModuleTarget {
  /**
   * The module: a `URL` (`file:` or `data:`), a URL string, or a file path; a relative path is
   * resolved against `process.cwd()` when the thread is constructed (a string with a scheme of
   * two letters or more is a URL; a Windows drive letter is a path). ES modules and CommonJS
   * modules both work (a CommonJS `module.exports` is the `default` export). Not a non-empty
   * string or a URL: a TypeError (`ERR_INVALID_ARG_TYPE`); a URL string that does not parse: a
   * TypeError (`ERR_INVALID_URL`).
   */
  module: string | URL;
  /**
   * The name of the export to call; default `'default'`. A non-empty string, else a TypeError
   * (`ERR_INVALID_ARG_TYPE`). A missing or non-function export is reported in the thread, to the
   * excepthook (`ERR_MODULE_TARGET_EXPORT`).
   */
  export?: string;
  /**
   * Runs the thread as a job on a fleet of workers (BullMQ on Redis; see the README's Remote
   * threads): `true`, or the job's options ({@link RemoteJobOptions}). The module must be a file
   * under the configured root (`configureRemote()`). Default: a local thread.
   */
  remote?: boolean | RemoteJobOptions;
}

/** A checked module target: an absolute URL, an export name, and where it runs. */
export interface ModuleRef {
  readonly url: string;
  readonly exportName: string;
  /** A remote thread's job options; null for a thread of this process. */
  readonly remote: RemoteSpec | null;
}

const MODULE_KEYS = new Set(['module', 'export', 'remote']);

/** A non-function object with a `module` key is meant as a module target. */
export function isModuleTarget(value: unknown): value is ModuleTarget {
  try {
    return typeof value === 'object' && value !== null && 'module' in value;
  } catch {
    return false;  // a hostile Proxy: not a module target (check.target refuses it)
  }
}

/** Reads a module target once (keys, module, export), whatever getters or Proxies do. */
function readModuleTarget(value: ModuleTarget): {
  keys: string[]; module: unknown; exportName: unknown; remote: unknown;
} {
  try {
    const { module, export: exportName = 'default', remote } = value;
    return { keys: Object.keys(value), module, exportName, remote };
  } catch (error) {
    throw Object.assign(argTypeError(`The "target" module reference could not be read. ${received(value)}`),
      { cause: error });
  }
}

export function moduleRef(value: ModuleTarget): ModuleRef {
  const { keys, module, exportName, remote } = readModuleTarget(value);
  for (const key of keys) {
    if (!MODULE_KEYS.has(key)) {
      throw argTypeError(`Unknown module target key "${key}" (expected module, export, remote)`, 'ERR_INVALID_ARG_VALUE');
    }
  }
  if (typeof exportName !== 'string' || exportName === '') {
    throw argTypeError(`The "target.export" argument must be a non-empty string. ${received(exportName)}`);
  }
  let url: string;
  if (module instanceof URL) {
    url = module.href;
  } else if (typeof module === 'string' && module !== '') {
    // A scheme of two letters or more (a Windows drive letter is a path): a URL string.
    url = /^[a-z][a-z\d+.-]+:/i.test(module) ? checkedUrl(module) : pathToFileURL(path.resolve(module)).href;
  } else {
    throw argTypeError(`The "target.module" argument must be a non-empty string or a URL. ${received(module)}`);
  }
  return { url, exportName, remote: remoteSpec(remote) };
}

function checkedUrl(text: string): string {
  try {
    return new URL(text).href;
  } catch {
    throw argTypeError(`The "target.module" argument is not a valid URL. ${received(text)}`, 'ERR_INVALID_URL');
  }
}

/** A short label for automatic names: the export, or the module's file name for `default`. */
export function moduleLabel(ref: ModuleRef): string {
  if (ref.exportName !== 'default') return ref.exportName;
  let base = ref.url.split(/[/?#]/).filter(Boolean).pop() ?? ref.url;
  try { base = decodeURIComponent(base); } catch { /* a malformed escape: shown as it is */ }
  return base.length > 40 ? `${base.slice(0, 37)}...` : base;
}
