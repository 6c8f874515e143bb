// A throwaway redis-server on a unix socket, for the remote threads' tests, demo and bench:
// no TCP port, no persistence, the eviction policy BullMQ needs. `node scripts/redis-server.mjs`
// runs one in the foreground and prints its socket path (Ctrl-C stops it).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** True when a redis-server binary is on the PATH. */
export function haveRedis() {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** One PING on `socket`: resolves true on +PONG, false on any error. */
export function ping(socket) {
  return new Promise((resolve) => {
    const c = connect(socket);
    c.setTimeout(1000);
    const done = (ok) => { c.destroy(); resolve(ok); };
    c.on('connect', () => c.write('PING\r\n'));
    c.on('data', (data) => done(data.toString().startsWith('+PONG')));
    c.on('error', () => done(false));
    c.on('timeout', () => done(false));
  });
}

/**
 * Starts redis-server; resolves to { socket, pid, stop() } once it answers. stop() ends it (and
 * removes its folder); it is safe to call twice. Throws (code ERR_REDIS_MISSING) without the binary.
 * `detached`: in a process group of its own, so that a terminal's Ctrl-C, which signals the whole
 * foreground group, does not stop it before its users (examples/demo/cluster.mjs stops it last).
 */
export async function startRedis({ detached = false } = {}) {
  if (!haveRedis()) {
    throw Object.assign(new Error('redis-server is not installed (Debian: apt-get install redis-server)'), { code: 'ERR_REDIS_MISSING' });
  }
  const dir = mkdtempSync(join(tmpdir(), 'bt-redis-'));
  const socket = join(dir, 'redis.sock');
  const child = spawn('redis-server', [
    '--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--dir', dir,
    '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', '--loglevel', 'warning',
  ], { stdio: ['ignore', 'ignore', 'inherit'], detached });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;   // a hang guard: it answers within tens of ms
  while (!(await ping(socket))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`redis-server did not start (exit code ${child.exitCode})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return { socket, pid: child.pid, stop };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const redis = await startRedis();
  console.log(redis.socket);
  const stop = () => { void redis.stop().then(() => process.exit(0)); };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
