// Remote threads over TCP with redis:// URLs, against a real redis-server that asks for a password:
// an IPv6 literal host ([::1]), the password kept out of every message and line the package
// prints (ERR_REMOTE_ENQUEUE, the default excepthook's stderr, the worker CLI's lines, a bad URL's
// TypeError), and a password with characters a URL must escape.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import { inspect } from 'node:util';
import * as pkg from 'background-thread';
import { BackgroundThread, configureRemote } from 'background-thread';
import { haveRedis, startRedis } from '../scripts/redis-server.mjs';
import { QUICK, ROOT, describe, runChild, runNode } from './helpers/child.mjs';
import { JOBS, JOBS_ROOT, SECRET, freshQueue, remoteEnv, startWorker, stopWorkers } from './helpers/remote.mjs';
import { until, withTimeout } from './helpers/wait.mjs';

const PASSWORD = 'pa55:w0rd@x/y';   // ':', '@' and '/' are escaped in the URL
const IPV6 = Object.values(networkInterfaces()).flat().some((a) => a?.address === '::1');
if (!IPV6) console.warn('remote-urls.test.mjs: no IPv6 loopback (::1): the TCP tests use 127.0.0.1');
const HOST = IPV6 ? '::1' : '127.0.0.1';
const redis = haveRedis() ? await startRedis({ bind: HOST, password: PASSWORD }) : null;
if (redis === null && process.env.CI) throw new Error('redis-server is missing: remote threads are tested against a real one');
test.after(async () => { await redis?.stop(); });
const it = redis === null ? test.skip : test;

const hostPart = IPV6 ? '[::1]' : '127.0.0.1';
const url = (port, password = PASSWORD) => `redis://:${encodeURIComponent(password)}@${hostPart}:${port}/0`;
const redacted = (port) => `redis://:***@${hostPart}:${port}/0`;
const leaks = (text) => text.includes(PASSWORD) || text.includes(encodeURIComponent(PASSWORD));

it(`a redis:// URL with ${IPV6 ? 'an IPv6 literal host' : 'a host'} and an escaped password: the thread runs on a worker that uses it too`, async () => {
  const queue = freshQueue();
  const worker = await startWorker(url(redis.port), queue);
  try {
    assert.ok(worker.stderr().includes(`ready on queue ${queue} at ${redacted(redis.port)}`), worker.stderr());
    assert.not.ok(leaks(worker.stderr()), worker.stderr());
    configureRemote({ url: url(redis.port), secret: SECRET, root: JOBS_ROOT, queue,
      pollInterval: 1 });
    const t = new BackgroundThread({ target: { module: JOBS, export: 'add', remote: true }, args: [20, 22] });
    t.start();
    assert.ok(await withTimeout(t.join(), 60, 'join'));
    assert.is(t.exception, undefined, String(t.exception?.message));
    assert.is(t.result.sum, 42);
  } finally {
    await stopWorkers(worker);
  }
});

it('the password is in no ERR_REMOTE_ENQUEUE message, on no stderr line (the default excepthook\'s, the worker\'s)', async () => {
  const closed = redis.port === 65535 ? redis.port - 1 : redis.port + 1;   // nobody listens there
  const r = await runChild(`
import * as pkg from 'background-thread';
import { BackgroundThread, configureRemote } from 'background-thread';
configureRemote({ enqueueTimeout: 1 });
const t = new BackgroundThread({ target: { module: ${JSON.stringify(JOBS)}, export: 'add', remote: true } });
t.start();
await t.join();
console.log('code', t.exception?.code, t.exception?.message, String(t.exception?.cause?.message));
`, { ...QUICK, env: remoteEnv(url(closed), freshQueue()) });
  assert.is(r.code, 0, describe(r));
  assert.match(r.stdout, /code ERR_REMOTE_ENQUEUE/, describe(r));
  assert.ok(r.stdout.includes(redacted(closed)), `the message names the redacted URL\n${describe(r)}`);
  assert.match(r.stderr, /cannot enqueue/, `the default excepthook printed it\n${describe(r)}`);
  assert.not.ok(leaks(r.stdout + r.stderr), describe(r));

  // A worker with a wrong password keeps retrying: its lines until then.
  const worker = spawn(process.execPath, ['dist/remote/cli.js', '--allow', 'jobs/**', '--url', url(redis.port, 'not-the-password')], {
    cwd: ROOT, env: { ...process.env, NODE_OPTIONS: '', ...remoteEnv(url(closed), freshQueue()) }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  worker.stderr.setEncoding('utf8').on('data', (chunk) => { stderr += chunk; });
  try {
    await until(() => /WRONGPASS|NOAUTH/.test(stderr), 60, 'the worker to report the refused password');
  } finally {
    worker.kill('SIGKILL');
  }
  assert.not.ok(leaks(stderr) || stderr.includes('not-the-password'), stderr);
});

it('a malformed redis:// URL is a TypeError (ERR_INVALID_ARG_VALUE) that does not show its password', async () => {
  const bad = `redis://:${encodeURIComponent(PASSWORD)}@bad host:6379`;
  // The password unescaped too (':', '@' and '/' in it), and a database that is not a number.
  for (const url of [bad, `redis://:${PASSWORD}@bad host:6379`, `redis://:${encodeURIComponent(PASSWORD)}@${hostPart}:6379/zero`]) {
    try {
      configureRemote({ url });
      assert.unreachable('accepted');
    } catch (error) {
      assert.instance(error, TypeError);
      assert.is(error.code, 'ERR_INVALID_ARG_VALUE');
      assert.match(error.message, /redis:\/\/:\*\*\*@/, 'the URL is named, redacted');
      assert.not.ok(leaks(inspect(error)) || inspect(error).includes('w0rd'), inspect(error));
    }
  }
  const r = await runNode(['dist/remote/cli.js', '--allow', 'jobs/**', '--url', bad], { ...QUICK, env: remoteEnv(bad, freshQueue()) });
  assert.is(r.code, 2, describe(r));
  assert.match(r.stderr, /ERR_INVALID_ARG_VALUE/, describe(r));
  assert.not.ok(leaks(r.stderr), describe(r));
});

test('startWorker() is the worker\'s name; runWorker(), its former one, is the same function', () => {
  assert.type(pkg.startWorker, 'function');
  assert.is(pkg.runWorker, pkg.startWorker);
  assert.throws(() => pkg.startWorker({ bogus: 1 }), (error) => error.message === 'Unknown startWorker option "bogus"');
});

test.run();
