// The demo's job as a remote thread's target (npm run demo:cluster): a module export, because a
// worker process imports the job's module by its path under the root (examples/demo), and its
// allow-list names this file only. Its progress stays on the worker; the creator learns the
// report when the job ends, and which worker ran it from thread.remote.worker.
import { buildReport } from './report-job.mjs';

/** Resolves with the report of a `seconds`-long job (see report-job.mjs). */
export function report(seconds) {
  return buildReport(seconds, () => {});
}
