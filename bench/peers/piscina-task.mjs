// piscina's task file for the piscina peer: calls module-work.mjs's export with the task's args,
// as plain-worker.mjs does for a plain Worker (piscina hands its handler one value, the task).
//   pool.run({ exportName, args })
import * as work from './module-work.mjs';

export default function task({ exportName, args }) {
  return work[exportName](...args);
}
