// What a remote thread's creator and its worker say to each other through a BullMQ job: the job's
// data and return value, signed with the shared secret (HMAC-SHA256), the arguments and the result
// in V8's serialization (the structured clone of local module targets), and the job's exception
// in the error fields BullMQ keeps. A job is untrusted input: the worker checks its shape and its
// signature before it deserialises anything, and resolves its module inside its root.
import { createHmac, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { deserialize, serialize } from 'node:v8';
import { BackgroundThreadError, RuntimeError, argTypeError } from './errors';

const VERSION = 1;

/** A job's data: which module and export to run, with what, signed. */
export interface JobData {
  v: number;
  module: string;   // relative to the root, '/'-separated
  export: string;
  name: string;     // the creator's thread name: the worker's thread takes it
  fresh: boolean;   // isolate: 'fresh'
  payload: string;  // base64 of v8.serialize({ args, kwargs })
  sig: string;
}

/** A completed job's return value. */
export interface JobResult {
  payload: string;  // base64 of v8.serialize(result)
  sig: string;
}

function hmac(secret: string, ...parts: string[]): string {
  const mac = createHmac('sha256', secret);
  mac.update(`bgthread/${VERSION}`);
  for (const part of parts) mac.update(`\n${part.length}:${part}`);  // length-prefixed: no ambiguity
  return mac.digest('base64url');
}

function sameSignature(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

function dataParts(data: Omit<JobData, 'sig' | 'v'>): string[] {
  return [data.module, data.export, data.name, String(data.fresh), data.payload];
}

/** Serialises the arguments and signs the job; a DataCloneError for what cannot be cloned. */
export function signJob(secret: string, job: Omit<JobData, 'sig' | 'v' | 'payload'>,
  args: unknown[], kwargs: Record<string, unknown> | null): JobData {
  const payload = serialize({ args, kwargs }).toString('base64');
  const data = { ...job, payload };
  return { v: VERSION, ...data, sig: hmac(secret, ...dataParts(data)) };
}

export function refusal(code: string, message: string): BackgroundThreadError {
  return new BackgroundThreadError(message, { code });
}

/**
 * Checks an untrusted job's data: its shape, then its signature, and only then deserialises its
 * arguments. Throws BackgroundThreadError `ERR_REMOTE_BAD_JOB` or `ERR_REMOTE_BAD_SIGNATURE`.
 */
export function openJob(secret: string, data: unknown): JobData & { args: unknown[]; kwargs: Record<string, unknown> | null } {
  const d = data as Partial<JobData> | null;
  if (typeof d !== 'object' || d === null || d.v !== VERSION || typeof d.module !== 'string' ||
      typeof d.export !== 'string' || typeof d.name !== 'string' || typeof d.fresh !== 'boolean' ||
      typeof d.payload !== 'string' || typeof d.sig !== 'string') {
    throw refusal('ERR_REMOTE_BAD_JOB', `not a background-thread job (version ${VERSION})`);
  }
  const job = d as JobData;
  if (!sameSignature(hmac(secret, ...dataParts(job)), job.sig)) {
    throw refusal('ERR_REMOTE_BAD_SIGNATURE', 'the job is not signed with this worker\'s secret');
  }
  const { args, kwargs } = deserialize(Buffer.from(job.payload, 'base64')) as { args: unknown[]; kwargs: Record<string, unknown> | null };
  return { ...job, args, kwargs };
}

export function signResult(secret: string, value: unknown): JobResult {
  const payload = serialize(value).toString('base64');
  return { payload, sig: hmac(secret, 'result', payload) };
}

/** A completed job's result; BackgroundThreadError `ERR_REMOTE_BAD_SIGNATURE` if it is not signed. */
export function openResult(secret: string, value: unknown): unknown {
  const r = value as Partial<JobResult> | null;
  if (typeof r !== 'object' || r === null || typeof r.payload !== 'string' || typeof r.sig !== 'string' ||
      !sameSignature(hmac(secret, 'result', r.payload), r.sig)) {
    throw refusal('ERR_REMOTE_BAD_SIGNATURE', 'the job\'s result is not signed with this secret');
  }
  return deserialize(Buffer.from(r.payload, 'base64'));
}

// Errors travel in BullMQ's failedReason (the message) and stacktrace (the stack), with the
// class and the code in the stack's first line as Node prints its own errors:
// `TypeError [ERR_X]: message`.
const HEADER = /^([A-Za-z_$][\w$]*)(?: \[([A-Z][A-Z0-9_]*)\])?: /;
const CLASSES: Record<string, new (message: string) => Error> = {
  Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError,
  BackgroundThreadError, RuntimeError,
};

/** The stack a worker records for what a job threw: `Name [CODE]: message` and the frames. */
export function encodeError(error: unknown): { message: string; stack: string } {
  if (!(error instanceof Error)) {
    const message = `a non-Error value was thrown: ${typeof error === 'string' ? error : String(error)}`;
    return { message, stack: `Error: ${message}` };
  }
  const code = (error as { code?: unknown }).code;
  const message = String(error.message);
  const stack = typeof error.stack === 'string' ? error.stack : '';
  // The stack's own first line names the class best: an isolate's clone of a custom class
  // arrives as an Error, with the original `ValidationError: ...` stack (Node's own errors
  // print `TypeError [ERR_X]: ...`).
  const first = stack.match(/^([A-Za-z_$][\w$]*)(?: \[[A-Z][A-Z0-9_]*\])?: /);
  const fromStack = first !== null && stack.startsWith(first[0] + message);
  const name = fromStack ? first[1]! : /^[A-Za-z_$][\w$]*$/.test(String(error.name)) ? String(error.name) : 'Error';
  const frames = fromStack ? stack.slice(first[0].length + message.length) : `\n${stack}`;
  const header = `${name}${typeof code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(code) ? ` [${code}]` : ''}: ${message}`;
  return { message, stack: header + frames };
}

/** What a failed job threw, rebuilt from its message and stack: built-in class, code, remote stack. */
export function decodeError(message: string, stack: string | undefined): Error {
  const header = stack?.match(HEADER);
  const name = header?.[1] ?? 'Error';
  const Class = Object.hasOwn(CLASSES, name) ? CLASSES[name]! : Error;
  const error = new Class(message);
  if (Class === Error && name !== 'Error') {
    Object.defineProperty(error, 'name', { value: name, writable: true, configurable: true, enumerable: false });
  }
  if (header?.[2] !== undefined) {
    Object.defineProperty(error, 'code', { value: header[2], writable: true, configurable: true, enumerable: true });
  }
  if (stack !== undefined) error.stack = stack;
  return error;
}

/**
 * The creator's half of the path rule: a module target's URL as a path relative to the root,
 * '/'-separated. Only `file:` URLs inside the root can name a module a worker can find.
 */
export function relativeModule(root: string, url: string): string {
  if (!url.startsWith('file:')) {
    throw refusal('ERR_REMOTE_MODULE_NOT_ALLOWED', `a remote module must be a file inside the root ${root}: ${url}`);
  }
  const rel = path.relative(root, fileURLToPath(url));
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) {
    throw refusal('ERR_REMOTE_MODULE_NOT_ALLOWED', `a remote module must be a file inside the root ${root}: ${url}`);
  }
  return rel.split(path.sep).join('/');
}

/** Compiles the worker's allow-list: `*` within a path segment, `**` across segments. */
export function allowList(patterns: readonly string[]): (rel: string) => boolean {
  if (!Array.isArray(patterns) || patterns.length === 0 || !patterns.every((p) => typeof p === 'string' && p !== '')) {
    throw argTypeError('A worker needs an allow-list: one or more glob patterns of module paths ' +
      'relative to its root (--allow \'jobs/**\')', 'ERR_REMOTE_NO_ALLOW_LIST');
  }
  const regexes = patterns.map(globRegExp);
  return (rel) => regexes.some((r) => r.test(rel));
}

function globRegExp(pattern: string): RegExp {
  const segments = pattern.split('/');
  const body = segments.map((segment, i) => {
    const last = i === segments.length - 1;
    if (segment === '**') return last ? '.*' : '(?:[^/]+/)*';
    return segment.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*') + (last ? '' : '/');
  });
  return new RegExp(`^${body.join('')}$`);
}

/**
 * The worker's half: resolves a job's module path inside the root (no absolute paths, URLs, `..`
 * or symlinks out of it) and checks it against the allow-list. Returns the file URL to import;
 * throws BackgroundThreadError `ERR_REMOTE_MODULE_NOT_ALLOWED`.
 */
export function resolveAllowed(root: string, allowed: (rel: string) => boolean, rel: string): string {
  const refuse = (why: string): never => {
    throw refusal('ERR_REMOTE_MODULE_NOT_ALLOWED', `module ${JSON.stringify(rel)} refused: ${why}`);
  };
  if (rel === '' || rel.includes('\\') || rel.includes('\0') || path.posix.isAbsolute(rel) || /^[a-z][a-z\d+.-]*:/i.test(rel)) {
    refuse('not a relative path');
  }
  if (rel.split('/').some((segment) => segment === '..' || segment === '.' || segment === '')) refuse('not a plain path');
  if (!allowed(rel)) refuse('not in the worker\'s allow-list');
  let real: string;
  try {
    real = fs.realpathSync(path.join(root, ...rel.split('/')));
  } catch {
    return refuse('no such file under the root');
  }
  const inside = path.relative(root, real);
  if (inside.startsWith('..') || path.isAbsolute(inside)) refuse('it leads out of the root');
  if (!allowed(inside.split(path.sep).join('/'))) refuse('its real path is not in the allow-list');
  return pathToFileURL(real).href;
}
