// Remote threads' tests: a real redis-server (the one .ci/run started,
// BACKGROUND_THREAD_TEST_REDIS, or a throwaway one per test file), real worker processes (the
// package's CLI) as children, and the BullMQ client the tests use to look at jobs as Redis holds
// them.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { haveRedis, startRedis } from '../../scripts/redis-server.mjs';
import { ROOT } from './child.mjs';
import { withTimeout } from './wait.mjs';

export const SECRET = 'test-secret-0123456789abcdef';
export const JOBS_ROOT = join(ROOT, 'test/fixtures/remote');
export const JOBS = new URL('../fixtures/remote/jobs/work.mjs', import.meta.url).href;
const CLI = join(ROOT, 'dist/remote/cli.js');

/**
 * The Redis of this test file: { socket, stop() }, or null (the file skips) when redis-server is
 * missing outside CI. Under CI=true a missing server fails the tests, never skips them.
 */
export async function testRedis() {
  const shared = process.env.BACKGROUND_THREAD_TEST_REDIS;
  if (shared) return { socket: shared, stop: async () => {} };
  if (!haveRedis()) {
    if (process.env.CI) throw new Error('redis-server is missing: remote threads are tested against a real one (apt-get install redis-server)');
    console.warn('redis-server is not installed: skipping the remote threads tests');
    return null;
  }
  return startRedis();
}

/** A queue name of its own for each test: tests sharing one Redis never see each other's jobs. */
export const freshQueue = () => `t-${randomUUID()}`;

/** The env a creator or worker child needs for `redis`. */
export const remoteEnv = (socket, queue, extra = {}) => ({
  BACKGROUND_THREAD_REMOTE: socket, BACKGROUND_THREAD_REMOTE_SECRET: SECRET,
  BACKGROUND_THREAD_REMOTE_ROOT: JOBS_ROOT, BACKGROUND_THREAD_REMOTE_QUEUE: queue, ...extra,
});

/** A folder for marker files. */
export const markers = () => mkdtempSync(join(tmpdir(), 'bt-remote-'));

/**
 * Starts a worker process (`background-thread-worker`) and resolves once it is ready:
 * { child, name, exited (Promise of { code, signal }), stderr() }. Not ready within 60 s (a hang
 * guard): killed, and a rejection with what it printed.
 */
export function startWorker(socket, queue, { name = `w-${randomUUID().slice(0, 8)}`, args = [], env = {} } = {}) {
  const child = spawn(process.execPath, [CLI, '--allow', 'jobs/**', '--name', name, ...args], {
    cwd: ROOT, env: { ...process.env, NODE_OPTIONS: '', ...remoteEnv(socket, queue), ...env }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const ready = new Promise((resolve, reject) => {
    child.stderr.setEncoding('utf8').on('data', (chunk) => {
      stderr += chunk;
      if (stderr.includes(': ready on queue')) resolve();
    });
    void exited.then(({ code }) => reject(new Error(`worker ${name} exited (${code}) before it was ready:\n${stderr}`)));
  });
  return withTimeout(ready, 60, `worker ${name} to be ready`).then(() => ({ child, name, exited, stderr: () => stderr }), (error) => {
    child.kill('SIGKILL');
    throw new Error(`${error.message}:\n${stderr}`);
  });
}

/** Stops workers (SIGKILL: a test that needs a drain sends SIGTERM itself) and waits for them. */
export async function stopWorkers(...workers) {
  for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.exited));
}

/**
 * The raw ioredis client of a BullMQ Queue, for what its interface does not list: the package's
 * own accessor (src/remote/bullmq.ts), which knows BullMQ 5 (queue.client) from 6
 * (queue.getBackend().client).
 */
export const rawClient = (queue) => createRequire(import.meta.url)('../../dist/remote/bullmq.js').redisClient(queue);

/** A BullMQ Queue on `queue`, to look at its jobs (close it after). */
export async function inspectQueue(socket, queue) {
  const { Queue } = await import('bullmq');
  return new Queue(queue, { connection: { path: socket } });
}

/**
 * Two remote threads for a forgery test: `x` (from makeX) run to its end, then `y` (from makeY,
 * delayed an hour, so that nothing runs it unless it is promoted) enqueued; resolves { x, y, q,
 * client, returnvalue }: a queue to look at them (close it after), its raw client, and x's sealed
 * return value, which is not y's.
 */
export async function forgeryPair(socket, queue, makeX, makeY) {
  const x = makeX();
  x.start();
  await withTimeout(x.join(), 60, 'join');
  const y = makeY();
  y.start();
  await y.remote.enqueued;
  const q = await inspectQueue(socket, queue);
  const { returnvalue } = await q.getJob(x.remote.jobId);
  return { x, y, q, client: await rawClient(q), returnvalue };
}

/**
 * A TCP proxy in front of the Redis at `socket`, to play a network's failures with a real Redis:
 * hold() keeps what the connections open now send from Redis (a slow path: it arrives at
 * release(), the end of a connection closed meanwhile after it); connections made later pass.
 * refuse() cuts every connection and refuses new ones (refused() counts them) until accept().
 * Resolves { port, hold, release, refuse, refused, accept, close }.
 */
export async function redisProxy(socket) {
  const { createServer, connect } = await import('node:net');
  const pipes = new Set();
  let refusing = false;
  let refused = 0;
  const server = createServer((client) => {
    if (refusing) {
      refused++;
      client.destroy();
      return;
    }
    const upstream = connect(socket);
    const pipe = { client, upstream, held: null, closed: false };
    pipes.add(pipe);
    const drop = () => {
      pipes.delete(pipe);
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk) => { if (pipe.held) pipe.held.push(chunk); else upstream.write(chunk); });
    client.on('close', () => {
      pipe.closed = true;
      if (!pipe.held) upstream.end();
    });
    upstream.on('data', (chunk) => { if (!client.destroyed) client.write(chunk); });
    upstream.on('close', drop);
    client.on('error', () => {});
    upstream.on('error', drop);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    hold() { for (const pipe of pipes) pipe.held ??= []; },
    release() {
      for (const pipe of pipes) {
        if (!pipe.held) continue;
        for (const chunk of pipe.held) pipe.upstream.write(chunk);
        pipe.held = null;
        if (pipe.closed) pipe.upstream.end();
      }
    },
    refuse() {
      refusing = true;
      for (const pipe of [...pipes]) {
        pipe.client.destroy();
        pipe.upstream.destroy();
      }
    },
    refused: () => refused,
    accept() { refusing = false; },
    close() {
      refusing = true;
      for (const pipe of [...pipes]) pipe.upstream.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * A test file's remote setup: its Redis, a fresh queue, one worker on it (started in the file's
 * `before`, with `env`), and this process configured as the queue's creator; both stopped in
 * `after`. Returns { redis, queue, it, worker() }: `it` is `test`, or `test.skip` when
 * redis-server is missing outside CI.
 */
export async function remoteFixture(test, { env = {} } = {}) {
  const redis = await testRedis();
  const queue = freshQueue();
  let worker;
  test.before(async () => {
    if (redis === null) return;
    worker = await startWorker(redis.socket, queue, { env });
    const { configureRemote } = await import('background-thread');
    configureRemote({ url: redis.socket, secret: SECRET, root: JOBS_ROOT, queue, pollInterval: 1 });
  });
  test.after(async () => {
    if (worker) await stopWorkers(worker);
    await redis?.stop();
  });
  return { redis, queue, it: redis === null ? test.skip : test, worker: () => worker };
}
