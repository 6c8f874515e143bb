// The module targets (and piscina tasks) of the control rows (cancellation, progress): an export
// that reports progress n times, one that waits for its signal, one that never yields.
import { currentThread } from 'background-thread';

/** Reports 0..n-1. */
export function reportMany(n) {
  const me = currentThread();
  for (let i = 0; i < n; i++) me.reportProgress(i);
  return n;
}

/** Reports 'began', then waits for its thread's signal (cooperative cancellation). */
export function waitForAbort() {
  const me = currentThread();
  me.reportProgress('began');
  return new Promise((resolve) => { me.signal.addEventListener('abort', resolve, { once: true }); });
}

/** Reports 'began', then never yields: only terminating its isolate ends it. */
export function spinForever() {
  currentThread().reportProgress('began');
  for (;;) { /* busy */ }
}

/** A piscina task that never settles: piscina's abort ends its worker. */
export default function neverSettles() {
  return new Promise(() => {});
}
