// What a remote thread's creator and its worker say to each other through a BullMQ job: the job's
// data and return value, sealed with the shared secret (AES-256-GCM: encrypted, and authenticated
// like a signature), the arguments and the result in V8's serialization (the structured clone of
// local module targets), and the job's exception in the error fields BullMQ keeps, with the whole
// exception (src/core/thrown.ts) sealed beside them in the job's hash. A seal is bound
// to the job's place (key prefix, queue, job id): a job copied under another id or into another
// queue, or a result written into another job, does not open. A job is untrusted input: the
// worker checks its shape and opens its seal before it deserialises anything, and resolves its
// module inside its root.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { deserialize, serialize } from 'node:v8';
import { BackgroundThreadError, RuntimeError, argTypeError } from '../core/errors';
import { checkThrown, decodeThrown, encodeThrown } from '../core/thrown';
import { checkCarrier, type Carrier } from '../core/tracing';

/** The protocol's version: 2 seals and binds to the job's place (1 signed, unbound). */
const VERSION = 2;

/** Where a job lives in Redis: what its seals are bound to. */
export interface JobPlace { prefix: string; queue: string; jobId: string }

/**
 * A job's data: which module and export to run, in clear (bound to the seal), and the sealed
 * arguments.
 */
export interface JobData {
  v: number;
  module: string;   // relative to the root, '/'-separated
  export: string;
  name: string;     // the creator's thread name: the worker's thread takes it
  fresh: boolean;   // isolate: 'fresh'
  payload: string;  // base64 of the sealed v8.serialize({ args, kwargs[, carrier] })
}

/**
 * A completed job's return value. Beside the sealed result, how the job ran, as the job's hash
 * has it (in the clear there too): so that the creator learns its thread's end from BullMQ's
 * `completed` event alone, which carries the return value, with no read of the hash. Absent from
 * an older worker's result: the creator reads the hash then.
 */
export interface JobResult {
  v: number;
  payload: string;  // base64 of the sealed v8.serialize(result)
  worker?: string;  // the BullMQ worker name that ran it (the hash's processedBy)
  attempts?: number;  // attempts started, this one included (the hash's attemptsStarted)
  stalls?: number;  // the hash's stalledCounter
  progress?: JobProgress;  // the last progress value, sealed (the hash's progress)
}

/** How a job ran, as its result says it (untrusted: checked, unsealed as the hash's fields). */
export interface RanBy { worker: string; attempts: number; stalls: number; progress: unknown }

const count = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;

/**
 * How a job ran, from its return value (untrusted input: the shape is checked); null when the
 * value does not say (an older worker's, or not ours): the job's hash says then.
 */
export function ranBy(value: unknown): RanBy | null {
  const result = value as Partial<JobResult> | null;
  if (typeof result !== 'object' || result === null || typeof result.worker !== 'string' ||
    !count(result.attempts) || !count(result.stalls)) return null;
  const { worker, attempts, stalls, progress } = result;
  return { worker, attempts, stalls, progress };
}

/**
 * What a job's data becomes when its thread withdraws it (src/remote/body.ts): a worker fails it
 * unrun.
 */
export const WITHDRAWN = { v: VERSION, withdrawn: true } as const;

function lengthPrefixed(parts: readonly string[]): string {
  return parts.map((part) => `${part.length}:${part}\n`).join('');  // no ambiguity between parts
}

const masterKeys = new Map<string, Buffer>();

// One key per job and direction: HMAC-SHA256 (a PRF) of the place under a key derived from the
// secret (HKDF-SHA256), so that a random 96-bit IV never has to stay unique across more than a
// few seals (GCM's limit is per key), and a seal cannot open anywhere else.
function sealKey(secret: string, kind: 'job' | 'result' | 'thrown' | 'progress', place: JobPlace): Buffer {
  let master = masterKeys.get(secret);
  if (master === undefined) {
    master = Buffer.from(hkdfSync('sha256', secret, '', `background-thread/${VERSION}`, 32));
    if (masterKeys.size > 16) masterKeys.clear();  // a few secrets per process at most
    masterKeys.set(secret, master);
  }
  return createHmac('sha256', master).update(lengthPrefixed([kind, place.prefix, place.queue, place.jobId])).digest();
}

const IV = 12;
const TAG = 16;

function seal(key: Buffer, associated: string, plain: Buffer): string {
  const iv = randomBytes(IV);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(associated));
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64');
}

/** The plaintext, or null when the seal does not open (another key, place or associated data). */
function unseal(key: Buffer, associated: string, sealed: string): Buffer | null {
  const bytes = Buffer.from(sealed, 'base64');
  if (bytes.length < IV + TAG) return null;
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV));
  decipher.setAAD(Buffer.from(associated));
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG));
  try {
    // Nothing of the plaintext is used before final() has checked the tag.
    return Buffer.concat([decipher.update(bytes.subarray(IV, bytes.length - TAG)),
      decipher.final()]);
  } catch {
    return null;
  }
}

function jobAssociated(job: Pick<JobData, 'module' | 'export' | 'name' | 'fresh'>): string {
  return lengthPrefixed([String(VERSION), job.module, job.export, job.name, String(job.fresh)]);
}

/**
 * Serialises the arguments, and the thread's trace carrier if any (sealed with them, so it is
 * authenticated with the job), and seals the job for `place`; a DataCloneError for what cannot be
 * cloned.
 */
export function sealJob(secret: string, place: JobPlace, job: Omit<JobData, 'v' | 'payload'>,
  args: unknown[], kwargs: Record<string, unknown> | null, cancelGrace: number,
  carrier: Carrier | null = null): JobData {
  const payload = seal(sealKey(secret, 'job', place), jobAssociated(job),
    serialize(carrier === null ? { args, kwargs, cancelGrace }
      : { args, kwargs, cancelGrace, carrier }));
  return { v: VERSION, ...job, payload };
}

export function refusal(code: string, message: string): BackgroundThreadError {
  return new BackgroundThreadError(message, { code });
}

const configRefusals = new WeakSet<object>();

/**
 * A refusal that may be the worker's own configuration's fault (another secret, a root without
 * the module, an older protocol): another worker may take the job (src/remote/worker.ts).
 */
export function configRefusal(code: string, message: string): BackgroundThreadError {
  const error = refusal(code, message);
  configRefusals.add(error);
  return error;
}

export function isConfigRefusal(error: unknown): boolean {
  return typeof error === 'object' && error !== null && configRefusals.has(error);
}

const where = (place: JobPlace): string => `job ${place.jobId} of queue ${place.queue}`;

/**
 * What a withdrawn job fails with, on the worker that takes it or as its tombstone
 * (src/remote/body.ts).
 */
export function withdrawnError(place: JobPlace): BackgroundThreadError {
  return refusal('ERR_REMOTE_ENQUEUE', `${where(place)} was withdrawn by its thread (Redis did not take it within ` +
    'its enqueueTimeout): it never runs');
}

/**
 * Checks an untrusted job's data: its shape, then its seal, and only then deserialises its
 * arguments and its trace carrier (null when there is none, or it is malformed: dropped, with a
 * warning). Throws BackgroundThreadError `ERR_REMOTE_BAD_JOB` (of a newer version: a config
 * refusal), `ERR_REMOTE_BAD_SIGNATURE` (a config refusal: maybe this worker's secret), or
 * `ERR_REMOTE_ENQUEUE` (a withdrawn job).
 */
export function openJob(secret: string, place: JobPlace, data: unknown): JobData & {
  args: unknown[]; kwargs: Record<string, unknown> | null; cancelGrace?: number;
  carrier: Carrier | null;
} {
  const untrusted = data as Partial<JobData> & { withdrawn?: unknown } | null;
  if (typeof untrusted === 'object' && untrusted !== null && typeof untrusted.v === 'number' &&
    untrusted.v > VERSION) {
    throw configRefusal('ERR_REMOTE_BAD_JOB', `${where(place)} is of protocol version ${untrusted.v}: this worker speaks version ${VERSION} (upgrade it)`);
  }
  if (untrusted?.v === VERSION && untrusted.withdrawn === true) throw withdrawnError(place);
  if (typeof untrusted !== 'object' || untrusted === null || untrusted.v !== VERSION ||
      typeof untrusted.module !== 'string' || typeof untrusted.export !== 'string' ||
      typeof untrusted.name !== 'string' || typeof untrusted.fresh !== 'boolean' ||
      typeof untrusted.payload !== 'string') {
    throw refusal('ERR_REMOTE_BAD_JOB', `not a background-thread job (version ${VERSION})`);
  }
  const job = untrusted as JobData;
  const plain = unseal(sealKey(secret, 'job', place), jobAssociated(job), job.payload);
  if (plain === null) {
    throw configRefusal('ERR_REMOTE_BAD_SIGNATURE', `${where(place)} is not sealed with this worker's secret for its place ` +
      '(another secret, or a job copied from another id or queue)');
  }
  const { args, kwargs, cancelGrace, carrier } = deserialize(plain) as {
    args: unknown[]; kwargs: Record<string, unknown> | null; cancelGrace?: unknown;
    carrier?: unknown;
  };
  // The thread's cancelGrace (seconds); absent from an older creator's job: the default then.
  const grace = typeof cancelGrace === 'number' && cancelGrace >= 0 ? cancelGrace : undefined;
  return { ...job, args, kwargs, cancelGrace: grace, carrier: checkCarrier(carrier, `of ${where(place)}`) };
}

/** Serialises and seals a job's result for `place`. */
export function sealResult(secret: string, place: JobPlace, value: unknown): JobResult {
  return { v: VERSION, payload: seal(sealKey(secret, 'result', place), String(VERSION), serialize(value)) };
}

/**
 * A completed job's result; BackgroundThreadError `ERR_REMOTE_BAD_SIGNATURE` if it is not sealed
 * for `place`.
 */
export function openResult(secret: string, place: JobPlace, value: unknown): unknown {
  const result = value as Partial<JobResult> | null;
  const plain = typeof result === 'object' && result !== null && result.v === VERSION &&
    typeof result.payload === 'string'
    ? unseal(sealKey(secret, 'result', place), String(VERSION), result.payload) : null;
  if (plain === null) {
    throw refusal('ERR_REMOTE_BAD_SIGNATURE', `the result of ${where(place)} is not sealed with this secret for this job ` +
      '(another secret, an older worker, or a result copied from another job)');
  }
  return deserialize(plain);
}

/** A job's progress as BullMQ keeps it (job.updateProgress): sealed, like its result. */
export interface JobProgress {
  v: number;
  progress: string;  // base64 of the sealed JSON of the value
}

/** Seals a progress value (checked by progressValue()) for `place`. */
export function sealProgress(secret: string, place: JobPlace, value: unknown): JobProgress {
  return { v: VERSION, progress: seal(sealKey(secret, 'progress', place), String(VERSION), Buffer.from(JSON.stringify(value))) };
}

/**
 * A job's progress, as untrusted input: the value, or undefined when it is not sealed for `place`
 * (another secret, a forged or copied value, BullMQ's own number): ignored then.
 */
export function openProgress(secret: string, place: JobPlace,
  value: unknown): { value: unknown } | undefined {
  const sealed = value as Partial<JobProgress> | null;
  if (typeof sealed !== 'object' || sealed === null || sealed.v !== VERSION || typeof sealed.progress !== 'string') return undefined;
  const plain = unseal(sealKey(secret, 'progress', place), String(VERSION), sealed.progress);
  if (plain === null) return undefined;
  try {
    return { value: JSON.parse(plain.toString()) as unknown };
  } catch {
    return undefined;
  }
}

/**
 * The pub/sub channel on which creators ask the queue's workers to cancel a running job: the
 * message is CancelRequest's JSON.
 */
export function cancelChannel(place: Omit<JobPlace, 'jobId'>): string {
  return `${place.prefix}:${place.queue}:bgt:cancel`;
}

/** What a creator publishes on cancelChannel: the job to cancel. */
export interface CancelRequest { jobId: string }

/** A message from cancelChannel, as untrusted input: the request, or null when it is not one. */
export function readCancelRequest(message: string): CancelRequest | null {
  try {
    const { jobId } = JSON.parse(message) as Partial<CancelRequest>;
    return typeof jobId === 'string' && jobId !== '' ? { jobId } : null;
  } catch {
    return null;
  }
}

/**
 * The field of a failed job's hash that holds what its thread threw, sealed (sealThrown): a
 * worker writes it before it fails the job, beside BullMQ's failedReason and stacktrace.
 */
export const THROWN_FIELD = 'bgtThrown';

/**
 * What a job's thread threw, as plain data (src/core/thrown.ts: class, name, message, stack, code
 * and other own primitive properties, cause, an AggregateError's errors), sealed for `place` and
 * for the job's failedReason `message`: a seal left from another attempt that failed otherwise does
 * not open with this one's. Null when it cannot be serialised (then failedReason and stacktrace
 * are all the creator gets).
 */
export function sealThrown(secret: string, place: JobPlace, message: string,
  error: unknown): string | null {
  try {
    return seal(sealKey(secret, 'thrown', place), lengthPrefixed([String(VERSION), message]), serialize(encodeThrown(error)));
  } catch {
    return null;
  }
}

/**
 * The exception of a failed job, rebuilt from its sealed field; undefined when there is none that
 * opens for `place` and `message` with this secret, or what it holds is not a thrown value's
 * record (untrusted input: checked before it is rebuilt).
 */
export function openThrown(secret: string, place: JobPlace, message: string,
  sealed: unknown): unknown {
  if (typeof sealed !== 'string') return undefined;
  const plain = unseal(sealKey(secret, 'thrown', place), lengthPrefixed([String(VERSION), message]), sealed);
  if (plain === null) return undefined;
  let record: unknown;
  try {
    record = deserialize(plain);
  } catch {
    return undefined;
  }
  const thrown = checkThrown(record);
  return thrown === null ? undefined : decodeThrown(thrown);
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

/**
 * What a failed job threw, rebuilt from its message and stack: built-in class, code, remote stack.
 */
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
  return (rel) => regexes.some((regex) => regex.test(rel));
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
export function resolveAllowed(root: string, allowed: (rel: string) => boolean,
  rel: string): string {
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
    // Maybe this worker's root is stale: another worker may have the file.
    throw configRefusal('ERR_REMOTE_MODULE_NOT_ALLOWED', `module ${JSON.stringify(rel)} refused: no such file under the root ${root}`);
  }
  const inside = path.relative(root, real);
  if (inside.startsWith('..') || path.isAbsolute(inside)) refuse('it leads out of the root');
  if (!allowed(inside.split(path.sep).join('/'))) refuse('its real path is not in the allow-list');
  return pathToFileURL(real).href;
}
