// The oracle and the judge of the fuzz tests (re-exported by helpers/fuzz-values.mjs): which plain
// inputs are valid and which documented codes a call with them may throw, as the README states
// them; and whether an error the package threw is allowed (judge()). Also the registries the
// judge reads: the caller's own errors (FuzzUserError, with the tag of the value that threw it)
// and values on which the engine itself throws.
import { AssertionError } from 'node:assert';
import {
  BackgroundThreadError, BackgroundThreadLimitReachedError, RuntimeError,
} from 'background-thread';

// ---------------------------------------------------------------------------------------------
// User errors and engine-hostile values.

/** What fuzz values' own code throws; never thrown by the package. */
export class FuzzUserError extends Error {
  constructor(tag, what) {
    super(`fuzz value's own error: ${what} (${tag})`);
    this.name = 'FuzzUserError';
    this.tag = tag;
  }
}
/** Every FuzzUserError ever thrown, with the tag of the value that threw it. */
export const userErrors = new WeakMap();
export function userThrow(tag, what) {
  const error = new FuzzUserError(tag, what);
  userErrors.set(error, tag);
  throw error;
}

/**
 * Values on which the engine itself throws a TypeError (no `code`) whatever the package does:
 * kind 'revoked' (any operation on a revoked proxy), 'noPrimitive' (String() fails: null
 * prototype, Symbol.toPrimitive returning an object, toString returning a symbol),
 * 'brokenIterator' (an iterator protocol violation: Array.from throws) and 'exoticProxy' (a
 * proxy of a Map/Set/typed array...: their methods reject the proxy as receiver).
 */
export const engineHostile = new WeakMap();
export function hostileTo(kind, value) {
  engineHostile.set(value, kind);
  return value;
}

/** The options the constructor knows, in its positional order (then daemon, stackSize). */
export const OPTION_KEYS = ['group', 'target', 'name', 'args', 'kwargs', 'verbose', 'daemon', 'stackSize'];

// ---------------------------------------------------------------------------------------------
// The oracle: validity of plain values, as the README states it.

export const nullish = (v) => v === undefined || v === null;
export const isValidTimeout = (v) => nullish(v) || (typeof v === 'number' && !Number.isNaN(v));
export const timeoutCode = (v) => (typeof v === 'number' ? 'ERR_OUT_OF_RANGE' : 'ERR_INVALID_ARG_TYPE');
/** Seconds the package waits: -1 forever, else >= 0. */
export function timeoutSeconds(v) {
  if (nullish(v) || v === Infinity || v >= 9.2e9) return -1;
  return Math.max(v, 0);
}
export const MIN_STACK = 32768;
export const MAX_STACK = 2 ** 30;
export const isValidStack = (v) => typeof v === 'number' &&
  (v === 0 || (Number.isInteger(v) && v >= MIN_STACK && v <= MAX_STACK));
export const stackCode = (v) => (typeof v === 'number' ? 'ERR_OUT_OF_RANGE' : 'ERR_INVALID_ARG_TYPE');
export const isValidCount = (v) => typeof v === 'number' && (v === Infinity || (Number.isInteger(v) && v >= 0));
export const isIterable = (v) => !nullish(v) && typeof v[Symbol.iterator] === 'function';
// A module target ({ module, export? }) is an object: such a target is not judged here.
const maybeModuleTarget = (v) => v !== null && typeof v === 'object' && Object.hasOwn(v, 'module');


/** The options the constructor reads from `params` (plain values only). */
export function readParams(params) {
  const [first] = params;
  if (params.length === 1 && typeof first === 'object' && first !== null) {
    const unknown = Object.keys(first).filter((k) => !OPTION_KEYS.includes(k));
    return { form: 'options', unknown, options: Object.fromEntries(OPTION_KEYS.map((k) => [k, first[k]])) };
  }
  const keys = ['group', 'target', 'name', 'args', 'kwargs', 'verbose'];
  return { form: 'positional', tooMany: params.length > 6, options: Object.fromEntries(keys.map((k, i) => [k, params[i]])) };
}

/** The codes a constructor call with these (plain) params may throw; empty: it must succeed. */
export function constructorCodes(params) {
  const { unknown, tooMany, options: o } = readParams(params);
  const codes = new Set();
  if (unknown?.length) codes.add('ERR_INVALID_ARG_VALUE');
  if (tooMany) codes.add('ERR_INVALID_ARG_TYPE');
  if (!nullish(o.group)) codes.add('ERR_ASSERTION');
  if (!nullish(o.target) && typeof o.target !== 'function' && !maybeModuleTarget(o.target)) codes.add('ERR_INVALID_ARG_TYPE');
  if (!nullish(o.args) && !isIterable(o.args)) codes.add('ERR_INVALID_ARG_TYPE');
  if (!nullish(o.kwargs) && (typeof o.kwargs !== 'object' || Array.isArray(o.kwargs))) codes.add('ERR_INVALID_ARG_TYPE');
  if (!nullish(o.daemon) && typeof o.daemon !== 'boolean') codes.add('ERR_INVALID_ARG_TYPE');
  if (!nullish(o.stackSize) && !isValidStack(o.stackSize)) codes.add(stackCode(o.stackSize));
  return codes;
}

// ---------------------------------------------------------------------------------------------
// The judge.

/** Documented codes (README "Errors") and the class each comes with. */
export const DOCUMENTED = new Map([
  ['ERR_INVALID_ARG_TYPE', TypeError],
  ['ERR_INVALID_ARG_VALUE', TypeError],
  ['ERR_OUT_OF_RANGE', RangeError],
  ['ERR_ASSERTION', AssertionError],
  ['ERR_THREAD_ALREADY_STARTED', RuntimeError],
  ['ERR_THREAD_NOT_STARTED', RuntimeError],
  ['ERR_JOIN_CURRENT_THREAD', RuntimeError],
  ['ERR_THREAD_ACTIVE', RuntimeError],
  ['ERR_JOIN_WOULD_DEADLOCK', RuntimeError],
  ['ERR_THREAD_LIMIT_REACHED', BackgroundThreadLimitReachedError],
  ['ERR_THREAD_RESOURCES_EXHAUSTED', BackgroundThreadLimitReachedError],
  ['ERR_THREAD_START_FAILED', BackgroundThreadError],
]);

export function describeError(error) {
  try {
    if (error === null || typeof error !== 'object') return `non-object thrown: ${String(error)}`;
    const code = typeof error.code === 'string' ? ` [${error.code}]` : ' [no code]';
    return `${error.constructor?.name ?? 'Object'}${code}: ${error.message}`;
  } catch {
    return '<an error that cannot be described>';
  }
}

/**
 * Is `error` allowed? Returns null if so, else why not. The rules:
 *  1. A documented error: its `code` is in DOCUMENTED, it is an instance of that code's class,
 *     its `name` is a string, and, when the call site says which codes it can throw (`codes`),
 *     the code is one of them.
 *  2. The caller's own error, propagated unchanged (the very object a fuzz value's getter, trap,
 *     iterator or toString threw): allowed only where the package has to run the caller's code
 *     to do its job (`userTags`: reading the options object, iterating `args`, String(name)),
 *     as Python lets an exception from __iter__/__str__ through. Where a typeof check suffices
 *     (timeouts, daemon, target, kwargs, stack sizes, counts, hooks) no user code may run at all,
 *     so a user error there is a failure; so is a user error wrapped or replaced.
 *  3. A TypeError without `code` from the engine itself: allowed when an input is a revoked
 *     proxy (anywhere), or an engine-hostile value of another kind (no primitive form, a broken
 *     iterator protocol) in a position where the package must convert or iterate it (`userTags`),
 *     or a name on which String() itself throws that TypeError: the README documents the name
 *     as "converted with String()", so String()'s own error is the documented outcome.
 * Anything else (a codeless TypeError from plain input, an Error, a primitive...) is a failure.
 */
export function judge(error, { codes = null, userTags = [], inputs = [] } = {}) {
  if (error !== null && (typeof error === 'object' || typeof error === 'function') && userErrors.has(error)) {
    const tag = userErrors.get(error);
    return userTags.includes(tag) ? null
      : `the fuzz value's own error (from "${tag}") escaped where no user code should run: ${describeError(error)}`;
  }
  const Class = DOCUMENTED.get(error?.code);
  if (Class !== undefined && error instanceof Class && typeof error.name === 'string') {
    if (codes === null || codes.includes(error.code)) return null;
    return `documented but unexpected here (expected one of ${codes.join(', ')}): ${describeError(error)}`;
  }
  if (error instanceof TypeError && error.code === undefined) {
    const excused = inputs.some(({ value, tag }) => {
      const kind = value !== null && (typeof value === 'object' || typeof value === 'function')
        ? engineHostile.get(value) : undefined;
      return kind === 'revoked' || (kind !== undefined && userTags.includes(tag)) ||
        (tag === 'name' && userTags.includes('name') && stringThrowsTypeError(value));
    });
    if (excused) return null;
  }
  return `undocumented error: ${describeError(error)}`;
}

/** String(value) itself fails with the engine's TypeError (a proxy of a typed array, say). */
function stringThrowsTypeError(value) {
  try {
    String(value);
    return false;
  } catch (error) {
    return error instanceof TypeError && !userErrors.has(error);
  }
}

export function attempt(fn) {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Throws (failing the property) unless `outcome` is a success or an allowed error. */
export function expectAllowed(outcome, context, what) {
  if (outcome.ok) return;
  const why = judge(outcome.error, context);
  if (why !== null) throw new Error(`${what}: ${why}`);
}
