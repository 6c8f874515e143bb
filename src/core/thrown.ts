// A thrown value on its way out of the realm it was thrown in: from an isolate to its creator (a
// structured clone on the isolate's port), from a worker to a remote thread's creator (v8's
// serialization, in the signed job). Both keep only part of an error: the built-in classes'
// message, stack and cause. An AggregateError loses `.errors`; a DOMException arrives as `{}` on
// Node 20; a custom class or Node's AbortError arrives as a plain Error named "Error"; `code` and
// every other own property are dropped. So an error travels as a record of plain data, and is
// rebuilt on the other side with its class (built-in, DOMException or the package's), name,
// message, stack, code, other own primitive properties, cause and errors.
import { inspect, types } from 'node:util';
import {
  BackgroundThreadError, BackgroundThreadLimitReachedError, FrontendsNotSupported, RuntimeError,
  ThreadCancelledError,
} from './errors';

/** An error, as plain data. */
interface ErrorRecord {
  readonly kind: 'error';
  /** The class it is rebuilt as: the nearest of CLASSES in its prototype chain, else 'Error'. */
  readonly class: string;
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  /** Own enumerable properties with primitive values (`code`, `errno`, `syscall`, ...). */
  readonly props: Readonly<Record<string, Primitive>>;
  readonly cause?: Thrown;
  /** An AggregateError's. */
  readonly errors?: readonly Thrown[];
}

/**
 * Any other thrown value: as it is when it can be cloned, else the text the default hook prints.
 */
interface ValueRecord {
  readonly kind: 'value';
  readonly value: unknown;
}

export type Thrown = ErrorRecord | ValueRecord;
type Primitive = string | number | boolean | bigint | null | undefined;

type Rebuild = (message: string, record: ErrorRecord) => Error;
const builtin = (Class: new (message: string) => Error): Rebuild => (message) => new Class(message);
const ours = (Class: new (message: string, details: { code?: string }) => Error): Rebuild =>
  (message, record) => new Class(message, typeof record.props.code === 'string' ? { code: record.props.code } : {});

// By class name, not by identity: an isolate's TypeError is another realm's.
const CLASSES: Readonly<Record<string, Rebuild>> = {
  Error: builtin(Error), TypeError: builtin(TypeError), RangeError: builtin(RangeError),
  SyntaxError: builtin(SyntaxError), ReferenceError: builtin(ReferenceError),
  EvalError: builtin(EvalError), URIError: builtin(URIError),
  AggregateError: (message) => new AggregateError([], message),
  DOMException: (message, record) => new DOMException(message, record.name),
  BackgroundThreadError: ours(BackgroundThreadError), RuntimeError: ours(RuntimeError),
  BackgroundThreadLimitReachedError: ours(BackgroundThreadLimitReachedError),
  FrontendsNotSupported: ours(FrontendsNotSupported),
  ThreadCancelledError: ours(ThreadCancelledError),
};

// A cause chain deeper than this (or a cycle) is cut: its rest arrives as text.
const MAX_DEPTH = 16;

function isError(value: unknown): value is Error {
  return value instanceof Error || types.isNativeError(value) || isDomException(value);
}

function isDomException(value: unknown): boolean {
  return Object.prototype.toString.call(value) === '[object DOMException]';
}

/** The text the default excepthook prints for a value; never throws. */
export function describe(value: unknown): string {
  try {
    if (value instanceof Error) return value.stack ?? String(value);
    return inspect(value);
  } catch {
    return '<exception that cannot be printed>';
  }
}

function className(error: object): string {
  if (isDomException(error)) return 'DOMException';
  for (let proto = Object.getPrototypeOf(error); proto !== null;
    proto = Object.getPrototypeOf(proto)) {
    const ctor = Object.getOwnPropertyDescriptor(proto, 'constructor')?.value as { name?: unknown } | undefined;
    const name = typeof ctor?.name === 'string' ? ctor.name : '';
    if (Object.hasOwn(CLASSES, name)) return name;
  }
  return 'Error';
}

function cloneable(value: unknown): boolean {
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}

/** `value` as plain data that a structured clone and v8.serialize carry whole. Never throws. */
export function encodeThrown(value: unknown, depth = 0, seen = new Set<unknown>()): Thrown {
  try {
    if (!isError(value)) return { kind: 'value', value: cloneable(value) ? value : describe(value) };
    if (depth >= MAX_DEPTH || seen.has(value)) return { kind: 'value', value: describe(value) };
    seen.add(value);
    const props: Record<string, Primitive> = {};
    for (const key of Object.keys(value)) {
      const v = (value as unknown as Record<string, unknown>)[key];
      if (v === null || (typeof v !== 'object' && typeof v !== 'function' && typeof v !== 'symbol')) props[key] = v as Primitive;
    }
    const { stack } = value;
    const record: { -readonly [K in keyof ErrorRecord]: ErrorRecord[K] } = {
      kind: 'error', class: className(value), name: String(value.name), message: String(value.message), props,
    };
    if (typeof stack === 'string') record.stack = stack;
    if (Object.hasOwn(value, 'cause')) record.cause = encodeThrown(value.cause, depth + 1, seen);
    const errors = (value as { errors?: unknown }).errors;
    if (Array.isArray(errors)) record.errors = errors.map((e) => encodeThrown(e, depth + 1, seen));
    return record;
  } catch (error) {  // a throwing getter, a revoked Proxy: what the hook would print, or less
    return { kind: 'value', value: describe(value === error ? '<exception that cannot be read>' : value) };
  }
}

function define(target: object, key: string, value: unknown, enumerable: boolean): void {
  Object.defineProperty(target, key, { value, writable: true, configurable: true, enumerable });
}

/** What encodeThrown() encoded, rebuilt in this realm. */
export function decodeThrown(thrown: Thrown): unknown {
  if (thrown.kind === 'value') return thrown.value;
  const rebuild = Object.hasOwn(CLASSES, thrown.class) ? CLASSES[thrown.class]! : CLASSES.Error!;
  const error = rebuild(thrown.message, thrown);
  if (error.name !== thrown.name) define(error, 'name', thrown.name, false);
  for (const [key, value] of Object.entries(thrown.props)) define(error, key, value, true);
  if (thrown.stack !== undefined) define(error, 'stack', thrown.stack, false);
  if (thrown.cause !== undefined) define(error, 'cause', decodeThrown(thrown.cause), false);
  if (thrown.errors !== undefined) define(error, 'errors', thrown.errors.map(decodeThrown), false);
  return error;
}

/**
 * A record as it arrived from an untrusted place (a job's hash), checked; null if it is not one.
 */
export function checkThrown(value: unknown, depth = 0): Thrown | null {
  if (typeof value !== 'object' || value === null || depth > MAX_DEPTH) return null;
  const r = value as { [K in keyof ErrorRecord]?: unknown } & { value?: unknown };
  if (r.kind === 'value' && 'value' in r) return r as ValueRecord;
  if (r.kind !== 'error' || typeof r.class !== 'string' || typeof r.name !== 'string' ||
      typeof r.message !== 'string' || (r.stack !== undefined && typeof r.stack !== 'string') ||
      typeof r.props !== 'object' || r.props === null ||
      Object.values(r.props as object).some((v) => v !== null && typeof v === 'object')) return null;
  if (r.cause !== undefined && checkThrown(r.cause, depth + 1) === null) return null;
  const errors: unknown = r.errors;
  if (errors !== undefined &&
    (!Array.isArray(errors) || errors.some((e) => checkThrown(e, depth + 1) === null))) return null;
  return r as unknown as ErrorRecord;
}
