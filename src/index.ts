// background-thread: App Engine's google.appengine.api.background_thread for Node.js.
export { BackgroundThread } from './background-thread';
export type { BackgroundThreadOptions, Target } from './options';
export { MainThread } from './main-thread';
export type { ModuleTarget } from './isolated-thread';
export {
  activeCount, currentThread, enumerate, joinAll, mainThread, setMaxBackgroundThreads, stackSize,
  startNewBackgroundThread,
} from './threading';
export { excepthook, getExcepthook, setExcepthook, type ExceptHook, type ExceptHookArgs } from './excepthook';
export {
  BackgroundThreadError, BackgroundThreadLimitReachedError, FrontendsNotSupported, RuntimeError,
  type ErrorDetails,
} from './errors';

// The seed module's spellings.
export { startNewBackgroundThread as start_new_background_thread } from './threading';
export { BackgroundThreadError as Error } from './errors';
