// What a creator's loop and an isolate (the Worker running src/isolate/runner.ts) say to each
// other, over one MessageChannel per isolate: the creator sends orders (a run, or the end of an
// idle isolate), the isolate sends reports.
// A run's end is not a message: the isolate tells the addon (finishAdopted), whose kEnded
// reaches the creator after every report the run posted, which the creator then reads to the end
// synchronously (receiveMessageOnPort).
import type { MessagePort, TransferListItem } from 'node:worker_threads';
import type { Thrown } from '../core/thrown';
import type { Carrier } from '../core/tracing';

/** The isolate's workerData. */
export interface IsolateData {
  port: MessagePort;
  /**
   * Cell 0 is set (and notified) once the isolate's JavaScript has run to its end, its 'exit'
   * listeners included: the creator waits on it at its own loop's end (src/isolate/pool.ts).
   */
  exited: Int32Array;
}

/** creator -> isolate: run a module target's export as the thread `ident`. */
export interface RunMessage {
  kind: 'run';
  ident: number;
  name: string;
  daemon: boolean;
  url: string;
  exportName: string;
  args: unknown[];
  kwargs: Record<string, unknown> | null;
  /** A fresh isolate: end it once the export has settled (its env's end is the thread's end). */
  fresh: boolean;
  /** The thread's trace context (src/core/tracing.ts), checked by the creator; absent: none. */
  carrier?: Carrier;
}

/**
 * creator -> isolate: a run; the end of an idle isolate (process.exit(): its 'exit' listeners
 * run); or, to an isolate idle since its last run, a look at the memory that run left.
 */
export type Order = RunMessage | { kind: 'end' } | { kind: 'collect' }
  /** The thread `ident` was cancelled: its signal aborts with `reason` (a ThreadCancelledError). */
  | { kind: 'cancel'; ident: number; reason: Thrown };

/**
 * isolate -> creator. `ident`: the run it belongs to (the last one, for what comes between runs).
 */
export type Report =
  | { kind: 'output'; stream: 'stdout' | 'stderr'; chunk: Uint8Array }
  | { kind: 'result'; ident: number; value: unknown }
  | { kind: 'thrown'; ident: number; thrown: Thrown }
  /** The module called process.exit() while the run was bound: the code the isolate ends with. */
  | { kind: 'exitCode'; ident: number; code: number }
  /** currentThread().reportProgress(value), checked there. */
  | { kind: 'progress'; ident: number; value: unknown }
  | { kind: 'load'; ident: number; message: string }
  | { kind: 'export'; ident: number; message: string }
  /**
   * Its thread left threads of its own running there: the isolate is never reused, and ends once
   * they have. Sent again when `holding` changes: true while some are non-daemon (the creator's
   * process then waits for them, and so does joinAll()).
   */
  | { kind: 'retiring'; holding: boolean }
  /** From the isolate's process 'exit' event: it is going away, never to be reused. */
  | { kind: 'exiting' };

/** A report that belongs to a run (`ident`). */
export type RunReport = Extract<Report, { ident: number }>;

/**
 * A target's return value to move rather than copy: see transfer() in src/isolate/module-target.ts.
 */
export const kTransfer = Symbol.for('background-thread.transfer');
export interface Transferring {
  readonly [kTransfer]: readonly TransferListItem[];
  readonly value: unknown;
}

export function isTransferring(value: unknown): value is Transferring {
  return typeof value === 'object' && value !== null && Object.hasOwn(value, kTransfer);
}
