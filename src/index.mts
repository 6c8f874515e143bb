// ESM entry: re-exports the CommonJS build, so that `import` and `require` share one registry of
// threads, one excepthook and one main thread (no dual-package hazard). Named one by one, so
// that the namespace holds exactly the API (no `__esModule`).
export {
  BackgroundThread, BackgroundThreadError, BackgroundThreadLimitReachedError, Error,
  FrontendsNotSupported, MainThread, RuntimeError, activeCount, currentThread, enumerate,
  excepthook, getExcepthook, joinAll, mainThread, setExcepthook, setMaxBackgroundThreads,
  stackSize, startNewBackgroundThread, start_new_background_thread,
} from './index.js';
export type {
  BackgroundThreadOptions, ErrorDetails, ExceptHook, ExceptHookArgs, ModuleTarget, Target,
} from './index.js';
