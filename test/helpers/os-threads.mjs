// The kernel's view of this process's threads (Linux /proc/self/task; elsewhere nothing is seen,
// and the tests that need it check `linux` first).
import { readdirSync } from 'node:fs';
import { until } from './wait.mjs';

export const linux = process.platform === 'linux';

/** Kernel thread ids (tids) of this process; [] off Linux. */
export const tasks = () => (linux ? readdirSync('/proc/self/task').map(Number) : []);

/**
 * Waits until none of `tids` is a thread of this process; false if one stays `seconds` (a hang
 * guard: a leaked thread stays forever, an ended one leaves /proc a moment after pthread_join).
 */
export function gone(tids, seconds = 20) {
  return until(() => !tasks().some((id) => tids.includes(id)), seconds, 'threads to leave /proc')
    .then(() => true, () => false);
}
