// What a creator's loop and an isolate (the Worker running src/module-runner.ts) say to each
// other, over one MessageChannel per isolate: the creator sends runs, the isolate sends reports.
// A run's end is not a message: the isolate tells the addon (finishModuleThread), whose kEnded
// reaches the creator after every report the run posted, which the creator then reads to the end
// synchronously (receiveMessageOnPort).
import type { MessagePort, TransferListItem } from 'node:worker_threads';

/** The isolate's workerData. */
export interface IsolateData {
  port: MessagePort;
}

/** creator -> isolate: run a module target's export as the thread `ident`. */
export interface RunMessage {
  ident: number;
  name: string;
  daemon: boolean;
  url: string;
  exportName: string;
  args: unknown[];
  kwargs: Record<string, unknown> | null;
  /** A fresh isolate: end it once the export has settled (its env's end is the thread's end). */
  fresh: boolean;
}

/** isolate -> creator. `ident`: the run it belongs to (the last one, for what comes between runs). */
export type Report =
  | { kind: 'output'; stream: 'stdout' | 'stderr'; chunk: Uint8Array }
  | { kind: 'result'; ident: number; value: unknown }
  | { kind: 'thrown'; ident: number; value: unknown; code?: unknown }
  | { kind: 'load'; ident: number; message: string }
  | { kind: 'export'; ident: number; message: string }
  /** From the isolate's process 'exit' event: it is going away, never to be reused. */
  | { kind: 'exiting' };

/** A target's return value to move rather than copy: see transfer() in src/module-target.ts. */
export const kTransfer = Symbol.for('background-thread.transfer');
export interface Transferring {
  readonly [kTransfer]: readonly TransferListItem[];
  readonly value: unknown;
}

export function isTransferring(value: unknown): value is Transferring {
  return typeof value === 'object' && value !== null && Object.hasOwn(value, kTransfer);
}
