// background-thread: App Engine's google.appengine.api.background_thread for Node.js.
// First: it refuses a runtime that is not Node.js (ERR_UNSUPPORTED_RUNTIME), and checks that this
// code runs from the package's files (ERR_BUNDLED), before any other module requires a built-in
// (which fails in esbuild's ESM output).
import './core/runtime';
import './core/own-files';
export { BackgroundThread } from './thread/background-thread';
export type { BackgroundThreadOptions, Target } from './thread/options';
export { MainThread } from './thread/main-thread';
export { transfer } from './isolate/body';
export type { ModuleTarget } from './thread/module-target';
export {
  activeCount, currentThread, enumerate, isolatePool, joinAll, mainThread, setIsolatePool,
  setMaxBackgroundThreads, stackSize, startNewBackgroundThread, type IsolatePoolOptions,
  type IsolatePoolState,
} from './thread/threading';
export type { TraceContext } from './core/tracing';
export type { TimeSummary } from './isolate/stats';
export { configureRemote, type RemoteConfig, type RemoteJob, type RemoteJobOptions } from './remote/options';
export { remoteQueueCounts, type RemoteQueueCounts } from './remote/counts';
export { runWorker, startWorker, type RemoteWorker, type RemoteWorkerOptions } from './remote/worker';
export { excepthook, getExcepthook, setExcepthook, type ExceptHook, type ExceptHookArgs } from './thread/excepthook';
export {
  BackgroundThreadError, BackgroundThreadLimitReachedError, FrontendsNotSupported, RuntimeError,
  ThreadCancelledError,
  type ErrorDetails,
} from './core/errors';

// App Engine's spellings (background_thread's snake_case names).
export { startNewBackgroundThread as start_new_background_thread } from './thread/threading';
export { BackgroundThreadError as Error } from './core/errors';
