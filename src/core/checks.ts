// Argument checks shared by the class and the module functions. Each returns the value in the
// form the rest of the package uses, or throws a typed error that names the argument.
import { inspect } from 'node:util';
import { argRangeError, argTypeError } from './errors';

/** "Received ..." for messages; never throws, whatever the value (revoked proxies included). */
export function received(value: unknown): string {
  if (value === null || value === undefined) return `Received ${value}`;
  try {
    if (typeof value === 'function') return `Received function ${value.name || '<anonymous>'}`;
    const shown = inspect(value, { depth: 0, customInspect: false, breakLength: Infinity });
    const text = shown.length > 40 ? `${shown.slice(0, 37)}...` : shown;
    return typeof value === 'object' ? `Received ${text}` : `Received type ${typeof value} (${text})`;
  } catch {
    return `Received type ${typeof value}`;
  }
}

/** Seconds (float) for join/joinSync/joinAll: -1 for forever, otherwise >= 0 (negative: 0). */
export function timeoutSeconds(value: unknown, name = 'timeout'): number {
  if (value === undefined || value === null) return -1;
  if (typeof value !== 'number') {
    throw argTypeError(`The "${name}" argument must be a number of seconds or null. ${received(value)}`);
  }
  if (Number.isNaN(value)) throw argRangeError(`The "${name}" argument must not be NaN`);
  if (value === Infinity) return -1;
  return Math.max(value, 0);
}

export function boolean(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') {
    throw argTypeError(`The "${name}" argument must be a boolean. ${received(value)}`);
  }
  return value;
}

/** A duration in seconds: a number >= 0, or Infinity. */
export function seconds(value: unknown, name: string): number {
  if (typeof value !== 'number') {
    throw argTypeError(`The "${name}" argument must be a number of seconds. ${received(value)}`);
  }
  if (!(value >= 0)) throw argRangeError(`The "${name}" argument must be >= 0. Received ${value}`);
  return value;
}

/** A thread count limit: a non-negative integer or Infinity. */
/** An integer >= `min` (0 or 1: the message names the range), or Infinity. */
export function threadCount(value: unknown, name: string, min: 0 | 1 = 0): number {
  if (typeof value !== 'number') {
    throw argTypeError(`The "${name}" argument must be a number. ${received(value)}`);
  }
  if (value !== Infinity && !(Number.isInteger(value) && value >= min)) {
    const range = min === 0 ? 'a non-negative' : 'a positive';
    throw argRangeError(`The "${name}" argument must be ${range} integer or Infinity. Received ${value}`);
  }
  return value;
}

export function target<T>(value: T, name = 'target'): Exclude<T, undefined> | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'function') {
    throw argTypeError(`The "${name}" argument must be a function, a module target ({ module, export }), ` +
      `null or undefined. ${received(value)}`);
  }
  return value as Exclude<T, undefined>;
}

/** Positional arguments, copied from any iterable (as Python copies into a tuple). */
export function args(value: unknown, name = 'args'): unknown[] {
  if (value === undefined || value === null) return [];
  if (typeof (value as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function') {
    throw argTypeError(`The "${name}" argument must be an iterable (an array, say). ${received(value)}`);
  }
  return Array.from(value as Iterable<unknown>);
}

/** Keyword arguments: an object, passed to the target as one trailing argument. */
export function kwargs(value: unknown, name = 'kwargs'): Record<string, unknown> | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw argTypeError(`The "${name}" argument must be an object of named arguments or null. ${received(value)}`);
  }
  return value as Record<string, unknown>;
}

// Options of configureRemote(), a remote target and startWorker(): named "option" in messages.

/** A string option, non-empty unless `nonEmpty` is false. */
export function textOption(value: unknown, name: string, nonEmpty = true): string {
  if (typeof value !== 'string' || (nonEmpty && value === '')) {
    throw argTypeError(`The "${name}" option must be a non-empty string. ${received(value)}`);
  }
  return value;
}

/** A positive number of seconds under 2^31 ms, a timer's limit. */
export function secondsOption(value: unknown, name: string): number {
  if (typeof value !== 'number') throw argTypeError(`The "${name}" option must be a number of seconds. ${received(value)}`);
  if (!(value > 0 && value < 2 ** 31 / 1000)) throw argRangeError(`The "${name}" option must be a positive number of seconds. Received ${value}`);
  return value;
}

/** An integer option from `min` to `max`. */
export function integerOption(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number') throw argTypeError(`The "${name}" option must be a number. ${received(value)}`);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw argRangeError(`The "${name}" option must be an integer from ${min} to ${max}. Received ${value}`);
  }
  return value;
}

/** A positive integer option (under 2^31), `fallback` when it is not given. */
export function positiveIntegerOption(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw argTypeError(`The "${name}" option must be a number. ${received(value)}`);
  if (!Number.isInteger(value) || value < 1 || value > 2 ** 31 - 1) throw argRangeError(`The "${name}" option must be a positive integer. Received ${value}`);
  return value;
}

/** The largest progress value (`reportProgress`), as JSON text. */
export const MAX_PROGRESS_CHARS = 64 * 1024;

/**
 * A progress value for `reportProgress()`: a finite number, a string, a boolean, null, or an
 * object (or array) that JSON carries, at most MAX_PROGRESS_CHARS as JSON. An object is returned
 * as its JSON copy, so that every kind of thread delivers the same shape (and the target may
 * change its own object afterwards).
 */
export function progressValue(value: unknown): unknown {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw argRangeError(`The "value" argument must be a finite number. ${received(value)}`);
    return value;
  }
  if (typeof value === 'boolean' || value === null) return value;
  let json: string | undefined;
  if (typeof value === 'string') {
    json = value;
  } else if (typeof value === 'object') {
    try {
      json = JSON.stringify(value);
    } catch (error) {
      throw Object.assign(argTypeError(`The "value" argument must be what JSON carries (${(error as Error)?.message})`,
        'ERR_INVALID_ARG_VALUE'), { cause: error });
    }
  }
  if (json === undefined) {
    throw argTypeError('The "value" argument must be a number, a string, a boolean, null, or an object ' +
      `that JSON carries. ${received(value)}`);
  }
  if (json.length > MAX_PROGRESS_CHARS) {
    throw argRangeError(`The "value" argument must be at most ${MAX_PROGRESS_CHARS} characters as JSON; it is ${json.length}`);
  }
  return typeof value === 'string' ? value : JSON.parse(json) as unknown;
}

/** An AbortSignal option, or null. */
export function signalOption(value: unknown, name: string): AbortSignal | null {
  if (value === undefined || value === null) return null;
  if (!(value instanceof AbortSignal)) throw argTypeError(`The "${name}" option must be an AbortSignal. ${received(value)}`);
  return value;
}
