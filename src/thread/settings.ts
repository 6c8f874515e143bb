// Process-wide knobs of this event loop, set through threading.ts, and the check of a stack size
// (against the addon's limits).
import { argRangeError, argTypeError } from '../core/errors';
import { received } from '../core/checks';
import { native } from '../native/binding';

export const settings = {
  /** Bytes for new threads' native stacks; 0: the platform's default (threading.stack_size). */
  stackSize: 0,
  /** Live background threads allowed on this loop (setMaxBackgroundThreads). */
  maxBackgroundThreads: Infinity,
};

/** A native stack size in bytes: 0 (the platform's default) or within the addon's limits. */
export function checkStackSize(value: unknown, name = 'size'): number {
  if (typeof value !== 'number') {
    throw argTypeError(`The "${name}" argument must be a number of bytes. ${received(value)}`);
  }
  const { minStackSize: min, maxStackSize: max } = native;
  if (value !== 0 && !(Number.isInteger(value) && value >= min && value <= max)) {
    throw argRangeError(
      `The "${name}" argument must be 0 (the platform default) or an integer from ${min} ` +
      `(32 KiB) to ${max} (1 GiB) bytes. Received ${value}`);
  }
  return value === 0 ? 0 : value;  // -0 is 0
}
