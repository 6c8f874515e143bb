// The demo in cluster mode (npm run demo:cluster): a throwaway redis-server, two worker processes
// (the package's worker CLI, named worker-1 and worker-2, allowed to run the demo's job module
// only) and the demo server in remote mode (DEMO_REMOTE=1), whose jobs are remote threads that
// the workers run. The secret that signs the jobs is made at each launch and reaches the
// children through their environment only (a command line is visible to every user).
// SIGINT/SIGTERM, or the end of its parent (npm's shell, under npm run): stop the server first
// (it waits for its running jobs and cancels its daemon ones, which needs the workers and Redis),
// then the workers (SIGTERM: they drain), then Redis; exit 0, or 1 when one of them did not exit
// 0. A second signal kills what is left and exits at once (128 + its number). A child that exits
// on its own stops the rest, exit 1.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { startRedis } from '../../scripts/redis-server.mjs';

const here = (file) => fileURLToPath(new URL(file, import.meta.url));
const WORKER_CLI = here('../../dist/remote/cli.js');
const ROOT = here('.');  // module paths are relative to it, for the server and the workers
const JOB = 'report-remote.mjs';

let stopping = false;
let failed = false;
const children = [];

// Children get process groups of their own (detached), as Redis does: a terminal's Ctrl-C
// signals the whole foreground group, and would stop them all at once, out of order.
function run(name, args, env) {
  const child = spawn(process.execPath, args, { env, stdio: 'inherit', detached: true });
  child.exited = once(child, 'exit');
  child.exited.then(([code, signal]) => {
    if (stopping) return;
    console.error(`demo:cluster: ${name} exited on its own (${signal ?? `code ${code}`}); stopping the rest`);
    failed = true;
    stop();
  });
  children.push(child);
  console.log(`demo:cluster: ${name} pid ${child.pid}`);
  return child;
}

/** SIGTERM, then its exit; true when it exited 0. */
async function stopChild(child) {
  child.kill('SIGTERM');  // a no-op once it has exited
  const [code] = await child.exited;
  return code === 0;
}

// Started first; a signal may come while it starts, and stop() then waits for it, to stop it.
const redisStarting = startRedis({ detached: true });
redisStarting.catch(() => {});  // reported below
const stopRedis = () => redisStarting.then((redis) => redis.stop(), () => {});

async function stop(signal) {
  stopping = true;
  console.log(`demo:cluster: ${signal ?? 'stopping'}: the server, then the workers, then redis-server`);
  const [server, ...workers] = children;  // spawned in this order, below
  const clean = [server ? await stopChild(server) : true,
    ...await Promise.all(workers.map(stopChild))];
  await stopRedis();
  const ok = !failed && clean.every(Boolean);
  console.log(ok ? 'demo:cluster: all stopped; bye' : 'demo:cluster: stopped, not all cleanly');
  process.exit(ok ? 0 : 1);
}

function onSignal(signal) {
  if (!stopping) {
    void stop(signal);
    return;
  }
  console.log(`demo:cluster: ${signal} again: killing what is left`);
  for (const child of children) child.kill('SIGKILL');
  void stopRedis().then(() => process.exit(128 + constants.signals[signal]));
}
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

// npm runs this script through `sh -c`, which does not pass a signal on: a SIGTERM to the pid of
// `npm run demo:cluster` ended npm and its shell only, and left all this running. So the parent's
// end stops it all too, as a SIGTERM does (polled with signal 0: Node has no event for it).
const parent = process.ppid;
setInterval(() => {
  if (stopping) return;
  try {
    process.kill(parent, 0);
  } catch (error) {
    if (error.code === 'ESRCH') void stop(`its parent (pid ${parent}) exited`);
  }
}, 250).unref();

let redis;
try {
  redis = await redisStarting;
} catch (error) {
  console.error(`demo:cluster: ${error.message}`);
  process.exit(1);
}
console.log(`demo:cluster: redis-server pid ${redis.pid} on ${redis.socket}`);
if (!stopping) {
  const env = {
    ...process.env,
    BACKGROUND_THREAD_REMOTE: redis.socket,
    BACKGROUND_THREAD_REMOTE_SECRET: randomBytes(32).toString('hex'),
    BACKGROUND_THREAD_REMOTE_ROOT: ROOT,
  };
  run('server', [here('server.mjs')], { ...env, DEMO_REMOTE: '1' });
  for (const name of ['worker-1', 'worker-2']) {
    // --concurrency 2: a few jobs at once spread over both workers.
    run(name, [WORKER_CLI, '--allow', JOB, '--root', ROOT, '--name', name, '--concurrency', '2'], env);
  }
}
