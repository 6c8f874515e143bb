// The demo's job as a remote thread's target (npm run demo:cluster): a module of its own, because
// a worker process imports the job's module by its path under the root (examples/demo), and its
// allow-list names this file only. The export is report-job.mjs's: on the worker, its progress
// goes into the BullMQ job and reaches the creator's thread.progress, and the creator's cancel
// aborts its currentThread().signal there.
export { report } from './report-job.mjs';
