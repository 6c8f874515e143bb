// A plain worker_threads Worker's entry for the module-target rows: what a module target does,
// without background-thread's layer (thread identity, native record, exception port): import the
// module, call the export with the args, end when it settles.
//   new Worker(this file, { workerData: { url, exportName, args } })
import { workerData } from 'node:worker_threads';

const { url, exportName, args } = workerData;
const namespace = await import(url);
await namespace[exportName](...args);
