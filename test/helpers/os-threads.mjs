// The kernel's view of this process's threads (Linux /proc/self/task; elsewhere nothing is seen,
// and the tests that need it check `linux` first). OS threads parked for reuse (named
// PARKED_NAME) are the package's idle reserve, not threads at work: tasks() leaves them out.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { until } from './wait.mjs';

export const linux = process.platform === 'linux';

// The addon's limits, from the file the package loads (the sanitizer builds' too).
const require = createRequire(import.meta.url);
const root = new URL('../..', import.meta.url).pathname;
const override = process.env.BACKGROUND_THREAD_ADDON;
export const limits = override ? require(resolve(override)) : require('node-gyp-build')(root);
export const PARKED_NAME = limits.parkedThreadName;

/** The name (comm) of thread `tid` of this process; null once it has left. */
export function threadName(tid) {
  try {
    return readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trimEnd();
  } catch {
    return null;
  }
}

/** Kernel thread ids (tids) of all this process's threads, parked ones included; [] off Linux. */
export const allTasks = () => (linux ? readdirSync('/proc/self/task').map(Number) : []);

/** Kernel thread ids (tids) of this process's threads at work; [] off Linux. */
export const tasks = () => allTasks().filter((id) => threadName(id) !== PARKED_NAME);

/** Tids of the OS threads parked for reuse. */
export const parkedTasks = () => allTasks().filter((id) => threadName(id) === PARKED_NAME);

/**
 * Waits until none of `tids` is a thread of this process at work (ended, or parked); false if one
 * stays `seconds` (a hang guard: a leaked thread stays forever, an ended one leaves /proc a moment
 * after pthread_join).
 */
export function gone(tids, seconds = 20) {
  return until(() => !tasks().some((id) => tids.includes(id)), seconds, 'threads to leave /proc')
    .then(() => true, () => false);
}

/** Waits until none of `tids` is a thread of this process at all (parked ones ended too). */
export function exited(tids, seconds = 60) {
  return until(() => !allTasks().some((id) => tids.includes(id)), seconds, 'threads to exit')
    .then(() => true, () => false);
}
