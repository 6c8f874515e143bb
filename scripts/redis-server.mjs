// A throwaway redis-server on a unix socket, for the remote threads' tests, demo and bench: no
// TCP port (unless asked for one), no persistence, the eviction policy BullMQ needs.
// `node scripts/redis-server.mjs` runs one in the foreground and prints its socket path (Ctrl-C
// stops it).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** True when a redis-server binary is on the PATH. */
export function haveRedis() {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * One PING on `socket` (after an AUTH with `password`): resolves true on +PONG, false on any error.
 */
export function ping(socket, password) {
  return new Promise((resolve) => {
    const c = connect(socket);
    c.setTimeout(1000);
    const done = (ok) => { c.destroy(); resolve(ok); };
    let answer = '';
    c.on('connect', () => c.write(`${password === undefined ? '' : `AUTH ${password}\r\n`}PING\r\n`));
    c.on('data', (data) => {
      answer += data;
      if (answer.includes('+PONG') || answer.startsWith('-')) done(answer.includes('+PONG'));
    });
    c.on('error', () => done(false));
    c.on('timeout', () => done(false));
  });
}

/** A TCP port nobody listens on at `host` now (the OS's pick; free again once this returns). */
function freePort(host) {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts redis-server; resolves to { socket, pid, port, stop() } once it answers. stop() ends it
 * (and removes its folder); it is safe to call twice. Throws (code ERR_REDIS_MISSING) without the
 * binary. `detached`: in a process group of its own, so that a terminal's Ctrl-C, which signals the
 * whole foreground group, does not stop it before its users (examples/demo/cluster.mjs stops it
 * last). `bind`: an address to listen on with TCP too, at a free `port` (null without); `password`:
 * Redis's `requirepass`, asked of every client, the unix socket's too.
 */
export async function startRedis({ detached = false, bind, password } = {}) {
  if (!haveRedis()) {
    throw Object.assign(new Error('redis-server is not installed (Debian: apt-get install redis-server)'), { code: 'ERR_REDIS_MISSING' });
  }
  const dir = mkdtempSync(join(tmpdir(), 'bt-redis-'));
  const socket = join(dir, 'redis.sock');
  const port = bind === undefined ? null : await freePort(bind);
  const tcp = port === null ? ['--port', '0'] : ['--port', String(port), '--bind', bind];
  const child = spawn('redis-server', [
    ...tcp, ...(password === undefined ? [] : ['--requirepass', password]), '--unixsocket', socket, '--unixsocketperm', '700', '--dir', dir,
    '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', '--loglevel', 'warning',
  ], { stdio: ['ignore', 'ignore', 'inherit'], detached });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;   // a hang guard: it answers within tens of ms
  while (!(await ping(socket, password))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`redis-server did not start (exit code ${child.exitCode})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return { socket, pid: child.pid, port, stop };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const redis = await startRedis();
  console.log(redis.socket);
  const stop = () => { void redis.stop().then(() => process.exit(0)); };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
