// What a thread is called and how it is listed, in this process: idents are unique and never
// reused; daemon defaults to the creating thread's flag; names (Thread-N, the target's name,
// String()), the OS thread's name, toString(); mainThread(), currentThread(), enumerate() and
// activeCount().
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import {
  BackgroundThread, MainThread, activeCount, currentThread, enumerate, mainThread,
} from 'background-thread';
import { deferred } from './helpers/wait.mjs';

test('idents are unique and never reused', async () => {
  const idents = new Set();
  for (let i = 0; i < 50; i++) {
    const t = new BackgroundThread({ target: () => {} });
    t.start();
    idents.add(t.ident);
    await t.join();
  }
  assert.is(idents.size, 50);
  assert.not.ok(idents.has(mainThread().ident));
});

test('daemon defaults to the current thread\'s flag: false at top level, inherited inside', async () => {
  assert.is(new BackgroundThread().daemon, false);
  const inherited = deferred();
  const outer = new BackgroundThread({
    daemon: true,
    target: () => {
      const child = new BackgroundThread();
      const explicit = new BackgroundThread({ daemon: false });
      inherited.resolve([child.daemon, child.isDaemon(), explicit.daemon]);
    },
  });
  outer.start();
  // Awaiting the join (not only the promise) holds the loop: a daemon thread never does.
  await outer.join();
  assert.equal(await inherited.promise, [true, true, false]);
  assert.is(new BackgroundThread({ daemon: null }).is_daemon(), false);
});

test('names: Thread-N counts from 1 and never repeats; the target\'s name is appended', () => {
  const a = new BackgroundThread();
  const b = new BackgroundThread({ target: function fetchFeed() {} });
  const c = new BackgroundThread({ name: '' });
  const [na, nb, nc] = [a, b, c].map((t) => /^Thread-(\d+)/.exec(t.name)[1]).map(Number);
  assert.ok(nb === na + 1 && nc === nb + 1, 'consecutive, never reused');
  assert.is(b.name, `Thread-${nb} (fetchFeed)`);
  assert.is(new BackgroundThread({ name: 7 }).name, '7');
  assert.match(new BackgroundThread({ name: [] }).name, /^Thread-\d+$/, 'a name that prints as nothing is no name');
  function report() {}
  assert.match(new BackgroundThread({ target: report.bind(null) }).name, /^Thread-\d+ \(report\)$/, 'a bound function: the bound one');
  assert.match(new BackgroundThread({ target: (() => {}).bind(null) }).name, /^Thread-\d+$/, 'anonymous bound: no "(bound )"');
  assert.match(new BackgroundThread({ target: { module: '/tmp/my report é.mjs' } }).name, /^Thread-\d+ \(my report é\.mjs\)$/,
    'a module target: its file name as written, not percent-encoded');
  const t = new BackgroundThread({ name: 'x' });
  t.name = 42;
  assert.is(t.getName(), '42');
  t.setName('y');
  assert.is(t.name, 'y');
});

test('the OS thread carries the name, truncated to 15 bytes on a UTF-8 boundary (Linux)', async () => {
  if (process.platform !== 'linux') return;
  const gate = deferred();
  const names = ['mailer', 'a-very-long-thread-name-indeed', 'ñññññññññ'];
  const threads = names.map((name) => new BackgroundThread({ name, target: () => gate.promise }));
  for (const t of threads) t.start();
  const comm = threads.map((t) => readFileSync(`/proc/self/task/${t.nativeId}/comm`, 'utf8').trimEnd());
  gate.resolve();
  for (const t of threads) await t.join();
  assert.equal(comm, ['mailer', 'a-very-long-thr', 'ñññññññ']);
});

test('toString: <ClassName(name, initial|started|stopped[ daemon][ ident])>', async () => {
  const gate = deferred();
  const t = new BackgroundThread({ name: 'w', daemon: true, target: () => gate.promise });
  assert.is(String(t), '<BackgroundThread(w, initial daemon)>');
  t.start();
  assert.is(String(t), `<BackgroundThread(w, started daemon ${t.ident})>`);
  gate.resolve();
  await t.join();
  assert.is(`${t}`, `<BackgroundThread(w, stopped daemon ${t.ident})>`);
  assert.match(String(mainThread()), /^<MainThread\(MainThread, started \d+\)>$/);
});

test('mainThread, currentThread, enumerate and activeCount', async () => {
  const main = mainThread();
  assert.instance(main, MainThread);
  assert.is(main, mainThread());
  assert.is(currentThread(), main);
  assert.is(main.name, 'MainThread');
  assert.is(main.daemon, false);
  assert.is(main.isAlive(), true);
  assert.is(main.nativeId, process.pid, 'on Linux the main thread\'s tid is the pid');
  const base = activeCount();
  const gate = deferred();
  const t = new BackgroundThread({ target: () => gate.promise });
  assert.not.ok(enumerate().includes(t), 'not before start');
  t.start();
  assert.ok(enumerate().includes(t));
  assert.is(enumerate()[0], main);
  assert.is(activeCount(), base + 1);
  gate.resolve();
  await t.join();
  assert.not.ok(enumerate().includes(t), 'not after the end');
  assert.is(activeCount(), base);
});

test.run();
