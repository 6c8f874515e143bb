// Module targets: `{ module, export }` runs in a worker_threads Worker, its own isolate
// on its own OS thread. This is the creator's half: checking the reference, creating the Worker,
// and turning what the Worker reports into the thread's exception. The Worker's half is
// isolated-runner.ts; the native record that makes join/joinSync work is native/isolated_thread.
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { BackgroundThreadError, argTypeError } from './errors';
import { received } from './validate';

/** A target run in its own isolate: the module's export (default: `default`) is called. */
export interface ModuleTarget {
  /** A URL (file: or data:), or a file path (relative paths are resolved against the cwd). */
  module: string | URL;
  export?: string;
}

/** A checked module target: an absolute URL and an export name. */
export interface ModuleRef {
  readonly url: string;
  readonly exportName: string;
}

/** What the Worker receives (structured-cloned). */
export interface RunnerData {
  ident: number;
  name: string;
  daemon: boolean;
  url: string;
  exportName: string;
  args: unknown[];
  kwargs: Record<string, unknown> | null;
  port: MessagePort;
}

/** What the Worker reports: what it writes, and what it throws or why its module cannot be used. */
export type RunnerReport =
  | { kind: 'output'; stream: 'stdout' | 'stderr'; chunk: Uint8Array }
  | { kind: 'thrown'; value: unknown; code?: unknown }
  | { kind: 'load'; message: string }
  | { kind: 'export'; message: string };

const RUNNER = path.join(__dirname, 'isolated-runner.js');
const MODULE_KEYS = new Set(['module', 'export']);

/** A non-function object with a `module` key is meant as a module target. */
export function isModuleTarget(value: unknown): value is ModuleTarget {
  try {
    return typeof value === 'object' && value !== null && 'module' in value;
  } catch {
    return false;  // a hostile Proxy: not a module target (validate.target refuses it)
  }
}

/** Reads a module target once (keys, module, export), whatever getters or Proxies do. */
function readModuleTarget(value: ModuleTarget): { keys: string[]; module: unknown; exportName: unknown } {
  try {
    const { module, export: exportName = 'default' } = value;
    return { keys: Object.keys(value), module, exportName };
  } catch (error) {
    throw Object.assign(argTypeError(`The "target" module reference could not be read. ${received(value)}`),
      { cause: error });
  }
}

export function moduleRef(value: ModuleTarget): ModuleRef {
  const { keys, module, exportName } = readModuleTarget(value);
  for (const key of keys) {
    if (!MODULE_KEYS.has(key)) {
      throw argTypeError(`Unknown module target key "${key}" (expected module, export)`, 'ERR_INVALID_ARG_VALUE');
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
  return { url, exportName };
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

export interface Launched {
  worker: Worker;
  port: MessagePort;
}

/**
 * Creates the Worker. Throws a TypeError (ERR_INVALID_ARG_VALUE) when args or kwargs cannot be
 * structured-cloned; nothing is left running then.
 */
export function launch(ref: ModuleRef, ident: number, name: string, daemon: boolean,
  args: unknown[], kwargs: Record<string, unknown> | null): Launched {
  const { port1, port2 } = new MessageChannel();
  const workerData: RunnerData = { ident, name, daemon, ...ref, args, kwargs, port: port2 };
  let worker: Worker;
  try {
    worker = new Worker(RUNNER, { workerData, transferList: [port2] });
  } catch (error) {
    port1.close();
    port2.close();
    if ((error as Error | null)?.name === 'DataCloneError') {
      throw Object.assign(argTypeError(
        `cannot start ${name}: the args and kwargs of a module target must be structured-cloneable ` +
        `(${(error as Error).message})`, 'ERR_INVALID_ARG_VALUE'), { cause: error });
    }
    throw error;
  }
  if (daemon) worker.unref();
  return { worker, port: port1 };
}

/**
 * Handles the Worker's reports as they come (output written to this process's streams, each
 * exception to `onException`), and returns what reads the rest without waiting, in order, and
 * closes the port: called as the thread ends, everything the Worker posted is there by then.
 */
export function listen(port: MessagePort, ref: ModuleRef, onException: (error: unknown) => void): () => void {
  const handle = (report: RunnerReport): void => {
    if (report.kind !== 'output') {
      onException(exceptionOf(report, ref));
      return;
    }
    try {
      (report.stream === 'stdout' ? process.stdout : process.stderr).write(report.chunk);
    } catch { /* this process's stream is closed: the output has nowhere to go */ }
  };
  port.on('message', handle);
  port.unref();  // the Worker holds the process open, or not (a daemon)
  return () => {
    for (let next = receiveMessageOnPort(port); next !== undefined; next = receiveMessageOnPort(port)) {
      handle(next.message as RunnerReport);
    }
    port.close();
  };
}

function exceptionOf(report: Exclude<RunnerReport, { kind: 'output' }>, ref: ModuleRef): unknown {
  const where = `module target ${ref.url} (export "${ref.exportName}")`;
  switch (report.kind) {
    case 'load':
      return new BackgroundThreadError(`cannot load ${where}: ${report.message}`,
        { code: 'ERR_MODULE_TARGET_LOAD' });
    case 'export':
      return argTypeError(`${where}: ${report.message}`, 'ERR_MODULE_TARGET_EXPORT');
    default: {
      // Structured cloning keeps an Error's class (for built-in ones), message and stack, not
      // its other own properties: `code` travels separately.
      const { value, code } = report;
      if (value instanceof Error && code !== undefined && !('code' in value)) {
        Object.defineProperty(value, 'code', { value: code, writable: true, configurable: true, enumerable: true });
      }
      return value;
    }
  }
}
