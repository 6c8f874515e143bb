// Runs test code with an excepthook that records its calls, and restores the hook before.
import { getExcepthook, setExcepthook } from 'background-thread';

/** Runs fn(calls) with a hook that pushes record(args) (default: args) to calls; returns calls. */
export async function withExcepthook(fn, record = (args) => args) {
  const previous = getExcepthook();
  const calls = [];
  setExcepthook((args) => { calls.push(record(args)); });
  try {
    await fn(calls);
  } finally {
    setExcepthook(previous);
  }
  return calls;
}
