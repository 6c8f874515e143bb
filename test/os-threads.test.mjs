// The threads are real: the kernel sees one more thread per live BackgroundThread, and the OS
// refusing a thread surfaces as BackgroundThreadLimitReachedError.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { BackgroundThread } from 'background-thread';
import { gone, linux, tasks } from './helpers/os-threads.mjs';
import { deferred } from './helpers/wait.mjs';

test('N live threads are N more OS threads at work with distinct nativeIds, released by join', async () => {
  if (!linux) return;
  const N = 64;
  const before = tasks();
  const gate = deferred();
  const threads = Array.from({ length: N }, (_, i) => new BackgroundThread({ name: `real-${i}`, target: () => gate.promise }));
  for (const t of threads) t.start();
  // nativeId waits for each to run: by then a parked OS thread it reused carries its name.
  const ids = threads.map((t) => t.nativeId);
  const during = tasks();
  assert.is(new Set(ids).size, N, 'distinct kernel ids');
  for (const id of ids) {
    assert.ok(during.includes(id), `tid ${id} is a thread of this process`);
    assert.not.ok(before.includes(id), `tid ${id} was not at work before`);
  }
  // Compared by id, not by count: other tests' Worker threads may still be exiting meanwhile.
  const added = during.filter((id) => !before.includes(id));
  gate.resolve();
  assert.equal(added.sort(), [...ids].sort(), 'the only new tasks are these threads');
  assert.equal(await Promise.all(threads.map((t) => t.join())), threads.map(() => true));
  // Joined: each OS thread has ended or is parked for reuse (renamed before join() resolves).
  assert.ok(await gone(ids), 'the joined threads are no longer at work');
  assert.equal(tasks().filter((id) => !before.includes(id)), [], 'no task left behind');
});

test('a thread the OS refuses (EAGAIN) is BackgroundThreadLimitReachedError, left unstarted', () => {
  // Under AddressSanitizer (npm run test:asan) the child cannot reserve its shadow memory
  // inside the address-space limit this test relies on.
  if (!linux || /asan/.test(process.env.LD_PRELOAD ?? '')) return;
  // A child with a small address-space limit: 1 GiB stacks run out of it after a few threads.
  const script = `
    const { BackgroundThread, BackgroundThreadLimitReachedError } = require('background-thread');
    const fs = require('node:fs');
    const gate = new Promise((resolve) => setTimeout(resolve, 200));
    const started = [];
    let refused;
    for (let i = 0; i < 1000 && !refused; i++) {
      const t = new BackgroundThread({ daemon: true, stackSize: 2 ** 30, target: () => gate });
      try { t.start(); started.push(t); } catch (error) { refused = { t, error }; }
    }
    const { t, error } = refused;
    // Threads at work: parked OS threads (the package's idle reserve) are not counted.
    const atWork = () => fs.readdirSync('/proc/self/task').filter((id) => {
      try { return fs.readFileSync('/proc/self/task/' + id + '/comm', 'utf8').trim() !== 'bgthread:parked'; } catch { return false; }
    }).length;
    const tasks = atWork();
    console.log(JSON.stringify({
      started: started.length, name: error.name, code: error.code, cause: error.cause?.code,
      isLimit: error instanceof BackgroundThreadLimitReachedError, message: error.message,
      alive: t.isAlive(), ident: t.ident,
    }));
    gate.then(async () => {
      for (const s of started) await s.join();
      const retry = new BackgroundThread({ target: () => {} });
      retry.start();
      await retry.join();
      console.log(JSON.stringify({ retried: !retry.isAlive(), leaked: atWork() - (tasks - started.length) }));
      // The joined 1 GiB threads' OS threads are parked, holding their stacks: a start() of
      // another stack size that the OS refuses ends them and tries again.
      const gate2 = new Promise((resolve) => setTimeout(resolve, 200));
      let other = 0;
      try { for (; other < 20; other++) new BackgroundThread({ daemon: true, stackSize: 2 ** 29, target: () => gate2 }).start(); } catch {}
      console.log(JSON.stringify({ other }));
    });
  `;
  const child = spawnSync('bash', ['-c', `ulimit -v 16000000 && exec "${process.execPath}" -e "$0"`, script], {
    cwd: new URL('..', import.meta.url), encoding: 'utf8', timeout: 30_000,
  });
  assert.is(child.status, 0, child.stderr);
  const [first, second, third] = child.stdout.trim().split('\n').map((line) => JSON.parse(line));
  assert.ok(first.started >= 1, 'some threads fit first');
  assert.is(first.name, 'BackgroundThreadLimitReachedError');
  assert.ok(first.isLimit);
  assert.is(first.code, 'ERR_THREAD_RESOURCES_EXHAUSTED');
  assert.is(first.cause, 'EAGAIN');
  assert.match(first.message, /operating system refused/);
  assert.is(first.alive, false);
  assert.is(first.ident, null, 'left unstarted');
  assert.ok(second.retried, 'threads start again once resources are back');
  assert.is(second.leaked, 0, 'the refused start leaked no OS thread');
  assert.ok(first.started * 2 > 20, 'the parked stacks are bigger than what comes next');
  assert.is(third.other, 20, 'parked OS threads gave back their stacks when the OS refused a thread');
});

test.run();
