// The seam between a BackgroundThread and what carries out its run. The class keeps the Python
// contract (start once, state, result, exception, join); a body runs the target and tells the
// class what it returned or threw. Three bodies, one per kind of target:
//   function target   its OS thread and the creator's loop (src/thread/function-body.ts)
//   module target     an isolate of this loop's pool (src/isolate/body.ts)
//   remote thread     a BullMQ job on a worker of the fleet (src/remote/body.ts)
// Every body has a native record under its ident: join() and joinSync() are native waits on it,
// and it is what holds the process open while a non-daemon thread runs. Its end reaches the class
// once, as kEnded (src/native/loop.ts), and the class then calls ended(). The record is entered in
// the loop's registry (native/loop.h) with the thread's object by the body's start.
import type { TransferListItem } from 'node:worker_threads';
import { attach } from '../native/loop';
import type { Carrier } from '../core/tracing';

/** What a body tells its thread, before the thread's end. */
export interface ThreadEvents {
  /** What the target threw (or its Promise rejected with), or why it could not be run. */
  onException(error: unknown): void;
  /** What the target returned (its Promise resolved to). */
  onResult(value: unknown): void;
  /**
   * A module target called process.exit(code) during the run: the thread ends normally, with that
   * code.
   */
  onExitCode?(code: number): void;
  /** The target reported progress (a value progressValue() checked). */
  onProgress(value: unknown): void;
}

/** What a body starts from: the thread's identity and its call, read at start(). */
export interface ThreadStart {
  name: string;
  daemon: boolean;
  args: unknown[];
  kwargs: Record<string, unknown> | null;
  transfer: TransferListItem[];
  fresh: boolean;
  /** Seconds a cancelled module target has to settle before its isolate is terminated. */
  cancelGrace: number;
  /** The thread itself: the loop's registry lists it and sends it its events. */
  thread: object;
  /** The trace context to send with the run (src/core/tracing.ts), checked; null: none. */
  carrier: Carrier | null;
}

/** A started thread's body, as its BackgroundThread sees it. */
export interface ThreadBody {
  /** The thread's ident: the key of its native record. */
  readonly ident: number;
  /**
   * Why a blocking `joinSync()` could not end now, whatever the native record says (only this
   * event loop can end the thread), or null: the native timed wait decides.
   */
  joinSyncRefusal(): string | null;
  /** Why, when the native wait reports the thread's end needs this event loop (-1). */
  readonly loopBoundReason: string;
  /** The native record has ended: everything the run produced is delivered before this returns. */
  ended(): void;
  /**
   * The thread was cancelled (its outcome not yet known here): make its target's signal abort
   * with `error` where the target runs, and end the run (at once if it has not begun; a module
   * target's isolate is terminated after `grace` seconds). The thread ends as usual, by kEnded.
   */
  cancel(error: Error, grace: number): void;
}

/**
 * The body of a thread cancelled before it started (its `signal` option already aborted): an
 * adopted native record ended at once, so that start(), join() and the registry work as for any
 * thread, and the target never runs.
 */
export function endedBody(start: ThreadStart): ThreadBody {
  const loop = attach();
  const ident = loop.adopt(start.name, start.daemon, start.thread);
  loop.finishAdopted(ident);
  return { ident, joinSyncRefusal: () => null, loopBoundReason: '', ended: () => {}, cancel: () => {} };
}
