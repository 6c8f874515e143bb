// The package's diagnostics_channel TracingChannels, for APM tools (docs/api.md#tracing):
//   background-thread:start   on the creator: start() (start/end), then the thread's end
//                             (asyncStart/asyncEnd, error when it ended with an exception)
//   background-thread:run     where the target runs: the creator's loop (a function target), the
//                             isolate (a module target's export), the worker process (a remote job)
// One context object per thread and channel. Its `carrier` is a plain object of strings that a
// start subscriber fills (a W3C traceparent, say) and that travels with the thread, so that a run
// subscriber elsewhere can carry on the trace; the package only checks it where it arrives.
// Nothing is published, and no context made, while a channel has no subscriber. Node before 18.19
// has no tracingChannel: then nothing is published at all.
import * as diagnostics from 'node:diagnostics_channel';

export type ThreadKind = 'function' | 'module' | 'remote';
/** The trace context that travels with a thread: string keys to string values. */
export type Carrier = Record<string, string>;

/**
 * What a subscriber of `background-thread:start` or `background-thread:run` is given: one object
 * per thread and channel, the same for each of its events (docs/api.md#tracing).
 */
export interface TraceContext {
  /**
   * The thread: the `BackgroundThread` on its creator; in a module target's isolate, its
   * `currentThread()` there; in a worker, the worker's own thread that runs the job.
   */
  thread: object;
  /** `'function'`, `'module'` or `'remote'`. */
  kind: ThreadKind;
  /**
   * The thread's ident; null at the start channel's `start` (start() gives it), and at a remote
   * job's run's `start` (the worker's thread starts inside it).
   */
  ident: number | null;
  /** The thread's name when it started. */
  name: string;
  /** The daemon flag it runs with (false for a worker's thread). */
  daemon: boolean;
  /** A remote thread's job id, once known (from `end` on, on the creator); else null. */
  jobId: string | null;
  /**
   * The trace context that travels with the thread: a plain object that a `start` subscriber
   * fills with string keys and values (a W3C `traceparent`, say); a run away from the creator
   * gets the creator's copy, or `{}`.
   */
  carrier: Carrier;
  /** What start() threw, or what the thread or the run ended with, as TracingChannel sets it. */
  error?: unknown;
  /** What the target returned (its Promise resolved to), once the thread or the run has ended. */
  result?: unknown;
}

type Channel = diagnostics.TracingChannel<unknown, TraceContext>;

const make = (name: string): Channel | null => {
  const { tracingChannel } = diagnostics as Partial<typeof diagnostics>;
  return typeof tracingChannel === 'function' ? tracingChannel<unknown, TraceContext>(name) : null;
};
export const startChannel = make('background-thread:start');
export const runChannel = make('background-thread:run');

// TracingChannel#hasSubscribers is not on every Node version: its sub-channels' are (a bound
// store counts as a subscriber).
function listened(channel: Channel | null): channel is Channel {
  return channel !== null && (channel.start.hasSubscribers || channel.end.hasSubscribers ||
    channel.asyncStart.hasSubscribers || channel.asyncEnd.hasSubscribers ||
    channel.error.hasSubscribers);
}

/** The start channel's context for a thread about to start, or null when nobody listens. */
export function startTrace(thread: object, kind: ThreadKind, name: string,
  daemon: boolean): TraceContext | null {
  if (!listened(startChannel)) return null;
  return { thread, kind, ident: null, name, daemon, jobId: null, carrier: {} };
}

/**
 * start()'s synchronous part, traced: start (its stores active in `fn`), error if `fn` throws,
 * end. The context takes the thread's ident (and a remote thread's job id) before end.
 */
export function traceStart<T extends { ident: number; job?: { jobId: string } }>(
  context: TraceContext, fn: () => T): T {
  const channel = startChannel!;
  return channel.start.runStores(context, () => {
    try {
      const body = fn();
      context.ident = body.ident;
      context.jobId = body.job?.jobId ?? null;
      return body;
    } catch (error) {
      context.error = error;
      channel.error.publish(context);
      throw error;
    } finally {
      channel.end.publish(context);
    }
  });
}

/** The run channel's context where a thread's target runs, or null when nobody listens. */
export function runTrace(thread: object, kind: ThreadKind, ident: number | null, name: string,
  daemon: boolean, jobId: string | null, carrier: Carrier | null | undefined): TraceContext | null {
  if (!listened(runChannel)) return null;
  return { thread, kind, ident, name, daemon, jobId, carrier: carrier ?? {} };
}

/**
 * A run's synchronous part: start, with its stores active in `fn` (and in all `fn` schedules),
 * then end, whatever `fn` does. Its settling is published by traceSettled().
 */
export function traceRun<T>(context: TraceContext, fn: () => T): T {
  const channel = runChannel!;
  return channel.start.runStores(context, () => {
    try {
      return fn();
    } finally {
      channel.end.publish(context);
    }
  });
}

/**
 * A traced start's thread, or a traced run, has settled: error (once, when it threw or rejected),
 * then asyncStart and asyncEnd.
 */
export function traceSettled(channel: Channel, context: TraceContext,
  outcome: { error: unknown } | { result: unknown }): void {
  if ('error' in outcome) {
    context.error = outcome.error;
    channel.error.publish(context);
  } else {
    context.result = outcome.result;
  }
  channel.asyncStart.publish(context);
  channel.asyncEnd.publish(context);
}

/** A traced run of `fn`, settled when its value or Promise does (an isolate's, a worker's). */
export function tracePromise(context: TraceContext, fn: () => unknown): Promise<unknown> {
  const channel = runChannel!;
  let returned: unknown;
  try {
    returned = traceRun(context, fn);
  } catch (error) {
    traceSettled(channel, context, { error });
    return Promise.reject(error as Error);
  }
  return Promise.resolve(returned).then((result) => {
    traceSettled(channel, context, { result });
    return result;
  }, (error: unknown) => {
    traceSettled(channel, context, { error });
    throw error;
  });
}

interface RunEvents { onException(error: unknown): void; onResult(value: unknown): void }

/** A function target's run events, with its run's settling published after each is told. */
export function settling<E extends RunEvents>(context: TraceContext, events: E): E {
  return {
    ...events,
    onException: (error: unknown) => {
      events.onException(error);
      traceSettled(runChannel!, context, { error });
    },
    onResult: (value: unknown) => {
      events.onResult(value);
      traceSettled(runChannel!, context, { result: value });
    },
  };
}

/** At most this many entries in a carrier, of at most CARRIER_CHARS characters in all. */
export const CARRIER_ENTRIES = 64;
/** W3C baggage may take 8192 bytes; traceparent and tracestate some 600 more. */
export const CARRIER_CHARS = 16384;

let warned = false;

/**
 * A carrier as it arrives (written by a subscriber, or read from a job): a copy to send or use,
 * null when it is empty or missing. A bad one (not a plain object of string keys and string
 * values, or over the limits) is dropped, with a process warning the first time
 * (`BACKGROUND_THREAD_TRACE_CARRIER`): never a throw.
 */
export function checkCarrier(value: unknown, where: string): Carrier | null {
  if (value === undefined || value === null) return null;
  const why = carrierProblem(value);
  if (why !== null) {
    if (!warned) {
      warned = true;
      process.emitWarning(`background-thread: dropped the trace carrier ${where}: ${why}`,
        { code: 'BACKGROUND_THREAD_TRACE_CARRIER' });
    }
    return null;
  }
  const copy: Carrier = {};
  for (const [key, text] of Object.entries(value as Carrier)) {
    // Defined, not assigned: a key `__proto__` is a plain entry.
    Object.defineProperty(copy, key,
      { value: text, enumerable: true, writable: true, configurable: true });
  }
  return Object.keys(copy).length === 0 ? null : copy;
}

function carrierProblem(value: unknown): string | null {
  try {
    if (typeof value !== 'object' || Array.isArray(value)) return `not a plain object (${typeof value})`;
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return 'not a plain object';
    const keys = Reflect.ownKeys(value!);
    if (keys.length > CARRIER_ENTRIES) return `${keys.length} entries, more than ${CARRIER_ENTRIES}`;
    let chars = 0;
    for (const key of keys) {
      const descriptor = Object.getOwnPropertyDescriptor(value, key)!;
      if (typeof key !== 'string' || typeof descriptor.value !== 'string' || !descriptor.enumerable) {
        return 'its keys and values must be strings';
      }
      chars += key.length + descriptor.value.length;
    }
    return chars > CARRIER_CHARS ? `${chars} characters, more than ${CARRIER_CHARS}` : null;
  } catch {
    return 'it cannot be read';  // a Proxy that throws, say
  }
}
