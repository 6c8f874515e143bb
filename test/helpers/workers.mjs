// Starting a worker_threads Worker (a fixture) and following it: what it posted, its 'error'
// events, its exit; waits on its messages are hang guards that also fail when it exits first.
// Used in this process and, imported by URL, in child processes.
import { Worker } from 'node:worker_threads';
import { withTimeout } from './wait.mjs';

/**
 * new Worker(url, options), recorded: { worker, messages, errors, exited (resolves the exit
 * code), until(predicate(messages), seconds, what), next(kind, seconds, what) (the first
 * message of that kind) }.
 */
export function spawnWorker(url, options = {}) {
  const worker = new Worker(url, options);
  const messages = [];
  const errors = [];
  const listeners = new Set();
  worker.on('message', (m) => {
    messages.push(m);
    for (const check of listeners) check();
  });
  worker.on('error', (e) => { errors.push(e); });
  const exited = new Promise((resolve) => worker.on('exit', resolve));
  const until = (predicate, seconds, what) => withTimeout(new Promise((resolve, reject) => {
    const check = () => {
      if (!predicate(messages)) return;
      listeners.delete(check);
      resolve();
    };
    listeners.add(check);
    check();
    exited.then((code) => reject(new Error(`${what}: the Worker exited (${code}) first`)));
  }), seconds, what);
  const next = async (kind, seconds, what = kind) => {
    await until((ms) => ms.some((m) => m.kind === kind), seconds, what);
    return messages.find((m) => m.kind === kind);
  };
  return { worker, messages, errors, exited, until, next };
}
