// Process-wide knobs of this event loop, set through threading.ts.
export const settings = {
  /** Bytes for new threads' native stacks; 0: the platform's default (threading.stack_size). */
  stackSize: 0,
  /** Live background threads allowed on this loop (setMaxBackgroundThreads). */
  maxBackgroundThreads: Infinity,
};
