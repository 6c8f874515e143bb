// The module target of scripts/smoke-win32.cjs, run in a worker_threads isolate. cells[0] = 1
// says it runs; x >= 0: returns x * 2 if it sees its own thread's name; x < 0: blocks forever in
// Atomics.wait (for the daemon and exit cases: a thread that never ends by itself).
import { currentThread } from 'background-thread';

export function work(x, shared) {
  const cells = new Int32Array(shared);
  Atomics.store(cells, 0, 1);
  if (x < 0) for (;;) Atomics.wait(cells, 1, 0);
  return currentThread().name === 'iso' ? x * 2 : `wrong thread name ${currentThread().name}`;
}
