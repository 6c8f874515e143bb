// ESM entry: re-exports the CommonJS build, so that `import` and `require` share one registry of
// threads, one excepthook and one main thread (no dual-package hazard). Named one by one, so
// that the namespace holds exactly the API (no `__esModule`).
export {
  BackgroundThread, BackgroundThreadError, BackgroundThreadLimitReachedError, Error,
  FrontendsNotSupported, MainThread, RuntimeError, ThreadCancelledError, activeCount,
  configureRemote, currentThread, enumerate, excepthook, getExcepthook, isolatePool, joinAll,
  mainThread, remoteQueueCounts, runWorker, setExcepthook, setIsolatePool, setMaxBackgroundThreads,
  stackSize, startNewBackgroundThread, startWorker, start_new_background_thread, transfer,
} from './index.js';
export type {
  BackgroundThreadOptions, ErrorDetails, ExceptHook, ExceptHookArgs, IsolatePoolOptions,
  IsolatePoolState, ModuleTarget, RemoteConfig, RemoteJob, RemoteJobOptions, RemoteQueueCounts,
  RemoteWorker, RemoteWorkerOptions, Target, TimeSummary, TraceContext,
} from './index.js';
