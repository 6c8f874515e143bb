#!/usr/bin/env node
// `background-thread-worker`: startWorker() from the command line, with a drain on SIGTERM/SIGINT
// (exit 0 once the running jobs have ended, 1 when --drain-timeout passes first; a second signal
// exits at once with 128 + the signal's number), and under npm when its parent exits. The secret
// comes from the environment only (BACKGROUND_THREAD_REMOTE_SECRET): a command line is visible to
// every user of the machine.
import { constants } from 'node:os';
import { parseArgs } from 'node:util';
import type { RemoteWorkerOptions } from './worker';

const USAGE = `Usage: background-thread-worker --allow GLOB [--allow GLOB ...] [options]

Runs the remote threads of a BullMQ queue: each job's module export, in this package's isolates.

  --allow GLOB          module paths (relative to --root) that jobs may run; required
                        ('*' within a path segment, '**' across segments: 'jobs/**')
  --url URL|PATH        Redis: redis://host:port, rediss://..., or a unix socket path
                        (default: $BACKGROUND_THREAD_REMOTE)
  --queue NAME          the queue (default: $BACKGROUND_THREAD_REMOTE_QUEUE or background-thread)
  --root DIR            the folder module paths are relative to
                        (default: $BACKGROUND_THREAD_REMOTE_ROOT or the current folder)
  --concurrency N       jobs at once (default: the number of cores)
  --name NAME           this worker's name in BullMQ (default: host:pid)
  --drain-timeout S     seconds to let running jobs end on SIGTERM/SIGINT (default: 60)
  --lock-duration MS    a job's lock, renewed while it runs (default: 30000)
  --stalled-interval MS how often to look for jobs of dead workers (default: 30000)
  --max-stalled N       stalls before a job fails with ERR_REMOTE_STALLED (default: 1)

The secret jobs are sealed with is read from $BACKGROUND_THREAD_REMOTE_SECRET. A job this worker
cannot open (another secret) or find (a stale --root) is handed back for another worker.
`;

function fail(message: string): never {
  process.stderr.write(`background-thread-worker: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function flagNumber(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) {
    fail(`${flag} must be a whole number, not ${JSON.stringify(text)}`);
  }
  return value;
}

// Bun and Deno are refused (src/core/runtime.ts) before anything loads the addon, as by the
// package's entry point, and said as every refusal to start is (their own print of an uncaught
// error may leave the code out); only then is the worker's code loaded.
try {
  require('../core/runtime');
} catch (error) {
  fail(`${(error as Error).message} (${(error as { code?: string }).code})`);
}
const { startWorker } = require('./worker') as typeof import('./worker');

let values;
try {
  ({ values } = parseArgs({
    options: {
      allow: { type: 'string', multiple: true }, url: { type: 'string' }, queue: { type: 'string' },
      root: { type: 'string' }, concurrency: { type: 'string' }, name: { type: 'string' },
      'drain-timeout': { type: 'string' }, 'lock-duration': { type: 'string' },
      'stalled-interval': { type: 'string' }, 'max-stalled': { type: 'string' }, help: { type: 'boolean' },
    },
  }));
} catch (error) {
  fail((error as Error).message);
}
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
if (!values.allow?.length) fail('refusing to start without --allow: a worker that imports whatever a job names runs anyone\'s code');
const drainTimeout = Number(values['drain-timeout'] ?? 60);
if (!(drainTimeout >= 0)) fail('--drain-timeout must be a number of seconds');

const options: RemoteWorkerOptions = { allow: values.allow };
if (values.url !== undefined) options.url = values.url;
if (values.queue !== undefined) options.queue = values.queue;
if (values.root !== undefined) options.root = values.root;
if (values.name !== undefined) options.name = values.name;
const numbers = { concurrency: 'concurrency', lockDuration: 'lock-duration', stalledInterval: 'stalled-interval', maxStalledCount: 'max-stalled' } as const;
for (const [key, flag] of Object.entries(numbers)) {
  const value = flagNumber(values[flag], `--${flag}`);
  if (value !== undefined) options[key as keyof typeof numbers] = value;
}

let worker;
try {
  worker = startWorker(options);
} catch (error) {
  fail(`${(error as Error).message}${(error as { code?: string }).code ? ` (${(error as { code?: string }).code})` : ''}`);
}
const running = worker;
running.ready.then(() => {
  process.stderr.write(`background-thread-worker ${running.name}: ready on queue ${running.queue} at ${running.url}, allowing ${options.allow.join(', ')}\n`);
}, (error: unknown) => {
  process.stderr.write(`background-thread-worker ${running.name}: ${(error as Error)?.message ?? error}\n`);
});

let draining = false;
function onSignal(signal: NodeJS.Signals, why: string = signal): void {
  if (draining) process.exit(128 + (constants.signals[signal] ?? 0));
  draining = true;
  process.stderr.write(`background-thread-worker ${running.name}: ${why}: draining (up to ${drainTimeout} s; again to exit now)\n`);
  void running.close(drainTimeout).then((drained) => {
    if (!drained) process.stderr.write(`background-thread-worker ${running.name}: jobs still running after ${drainTimeout} s\n`);
    process.exit(drained ? 0 : 1);
  });
}
process.on('SIGTERM', (signal) => { onSignal(signal); });
process.on('SIGINT', (signal) => { onSignal(signal); });

// npm (npx, npm exec, npm run, npm start) runs this command through `sh -c`, which does not pass
// a signal on: a SIGTERM to the pid of npm ends npm and its shell only, and left this process
// running, orphaned. Under npm, the parent's end is taken as a SIGTERM (a drain). Polled (signal
// 0: is it there?), since Node has no event for it; unref'd: the worker's connections keep it up.
if (process.env.npm_lifecycle_event !== undefined) {
  const parent = process.ppid;
  setInterval(() => {
    if (draining) return;
    try {
      process.kill(parent, 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') onSignal('SIGTERM', `its parent (pid ${parent}) exited`);
    }
  }, 250).unref();
}
