// The function-target body: an OS thread of the addon's, whose target runs on the creator's own
// event loop. start() creates the OS thread (the loop's start()); the OS thread asks this loop to
// run the target (kRun, src/native/loop.ts), and the thread calls runTarget(), which runs `run()`
// and reports its settling (the loop's settled()); the OS thread then lets go of the thread, and
// its end comes back as kEnded.
import { types } from 'node:util';
import { startFailedError } from '../core/errors';
import { isTransferring } from '../isolate/protocol';
import { attach } from '../native/loop';
import type { ThreadBody, ThreadEvents } from './body';
import { routeThreadErrorsToExcepthook } from './excepthook';

const promiseThen = Promise.prototype.then;

/** A started function target's body, with its OS thread's id when it was already known (else 0). */
export interface FunctionBody extends ThreadBody {
  readonly nativeId: number;
}

/**
 * Creates the OS thread of a function target's thread. Throws the start error
 * (ERR_THREAD_START_FAILED, EAGAIN's) with nothing started.
 */
export function startFunctionThread(name: string, stackSize: number, daemon: boolean,
  thread: object): FunctionBody {
  routeThreadErrorsToExcepthook();
  let ids: [number, number];
  try {
    ids = attach().start(name, stackSize, daemon, thread);
  } catch (error) {
    throw startFailedError(name, error);
  }
  const [ident, nativeId] = ids;
  return {
    ident,
    nativeId,  // 0: not reported in yet (the thread's nativeId getter waits for it)
    joinSyncRefusal: () => null,
    loopBoundReason: 'its target has not settled and runs on this event loop, so a blocking wait ' +
      'would never end',
    ended: () => {},  // runTarget() delivered the outcome before the settling
    // Nothing to stop: the target runs on this loop, and ends when it settles (the class's signal
    // has aborted). One that has not begun is never run (the class's kRun).
    cancel: () => {},
  };
}

/**
 * Runs the target on this loop (the thread's `run()`, called by `call`) and tells the loop when
 * it has settled: at once for a value or a throw, else when the Promise (or thenable) settles.
 */
export function runTarget(ident: number, call: () => unknown, events: ThreadEvents): void {
  const loop = attach();
  let result: unknown;
  try {
    result = call();
  } catch (error) {
    events.onException(error);
    loop.settled(ident);
    return;
  }
  if (result === null || (typeof result !== 'object' && typeof result !== 'function')) {
    events.onResult(result);
    loop.settled(ident);
    return;
  }
  const onFulfilled = (value: unknown): void => {
    events.onResult(isTransferring(value) ? value.value : value);
    loop.settled(ident);
  };
  const onRejected = (error: unknown): void => { events.onException(error); loop.settled(ident); };
  // A plain native Promise: react to it directly, so that the thread has settled by the time
  // code that awaited the same Promise resumes (adopting it would record the settling two
  // microtasks late). Plain: no own `then` or `constructor`, nor a subclass, so the intrinsic
  // `then` runs no code of anyone's.
  if (types.isPromise(result) && Object.getPrototypeOf(result) === Promise.prototype &&
      !Object.hasOwn(result, 'then') && !Object.hasOwn(result, 'constructor')) {
    promiseThen.call(result, onFulfilled, onRejected);
    return;
  }
  // A Promise of our own adopts any thenable (a Promise with an own `then` included) and turns
  // a throwing `then`, or `then` getter, into a rejection: nothing escapes.
  new Promise((resolve) => { resolve(result); }).then(onFulfilled, onRejected);
}
