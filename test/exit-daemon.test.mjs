// What holds the process open, each case in its own child process (stdout, stderr, exit code,
// and elapsed time as a generous "did not wait" bound only, never a speed check): a live
// non-daemon thread does, until its target settles; a daemon thread never does, nor anything its
// target opens (timers, intervals, immediates, a listening server), even while something else
// holds the loop open; threads created inside a thread inherit its daemon flag; a subclass's
// daemon field or getter is the flag, read once at start().
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { IMPORT, ON_EXIT, QUICK, assertExit, assertPrompt, describe, runChild } from './helpers/child.mjs';

// --- non-daemon threads keep the process alive -------------------------------------------------

test('a non-daemon thread keeps the process alive; its output comes after the main script', async () => {
  const r = await runChild(IMPORT + ON_EXIT + `
const t = new BackgroundThread({ name: 'late', target: async () => {
  await sleep(300);
  console.log('THREAD DONE', currentThread().name);
} });
t.start();
console.log('MAIN END', t.daemon, t.isAlive());
`);
  assertExit(r, 0, ['MAIN END false true', 'THREAD DONE late', 'EXIT 0']);
  assert.ok(r.ms >= 250, `the process cannot have waited 300 ms: ${describe(r)}`);
  assert.is(r.stderr, '', describe(r));
});

test('the non-daemon thread itself (not its timer) holds the process open', async () => {
  // The timer is unref'd: only the live thread can keep the process until the target settles.
  const r = await runChild(IMPORT + ON_EXIT + `
new BackgroundThread({ target: async () => {
  await new Promise((resolve) => setTimeout(resolve, 300).unref());
  console.log('THREAD DONE');
} }).start();
console.log('MAIN END');
`, QUICK);
  assertExit(r, 0, ['MAIN END', 'THREAD DONE', 'EXIT 0']);
});

test('control: the same unref\'d-timer target in a daemon thread does not hold the process', async () => {
  const r = await runChild(IMPORT + ON_EXIT + `
new BackgroundThread({ daemon: true, target: async () => {
  await new Promise((resolve) => setTimeout(resolve, 300).unref());
  console.log('THREAD DONE');
} }).start();
console.log('MAIN END');
`, QUICK);
  assertExit(r, 0, ['MAIN END', 'EXIT 0']);
});

// --- daemon threads do not ---------------------------------------------------------------------

test('a daemon thread sleeping on a 120 s setTimeout does not delay exit', async () => {
  const r = await runChild(IMPORT + ON_EXIT + `
const t = new BackgroundThread({ daemon: true, target: async () => {
  console.log('DAEMON RAN');
  await sleep(120000);
  console.log('DAEMON DONE');
} });
t.start();
setTimeout(() => console.log('MAIN DONE', t.isAlive()), 200);
`, QUICK);
  assertExit(r, 0, ['DAEMON RAN', 'MAIN DONE true', 'EXIT 0']);
  assertPrompt(r);
});

test('a daemon thread started as the last thing of the script does not delay exit', async () => {
  const r = await runChild(IMPORT + ON_EXIT + `
new BackgroundThread({ daemon: true, target: async () => {
  await sleep(120000);
  console.log('DAEMON DONE');
} }).start();
console.log('MAIN END');
`, QUICK);
  assertExit(r, 0, ['MAIN END', 'EXIT 0']);
  assertPrompt(r);
});

test('a daemon target looping on setImmediate forever does not hold the process open', async () => {
  const r = await runChild(IMPORT + ON_EXIT + `
let ticks = 0;
const t = new BackgroundThread({ daemon: true, target: async () => {
  console.log('SETUP');
  for (;;) {
    await new Promise((resolve) => setImmediate(resolve));
    ticks++;
  }
} });
t.start();
setTimeout(() => console.log('MAIN DONE', t.isAlive(), ticks > 0), 200);
`, QUICK);
  assertExit(r, 0, ['SETUP', 'MAIN DONE true true', 'EXIT 0']);
  assertPrompt(r);
});

test('a self-rescheduling setImmediate loop started by a daemon target that returned does not hold the process open', async () => {
  // The target starts the loop and returns at once, so the thread ends while the loop (opened
  // by the target, still in its async context) goes on.
  const r = await runChild(IMPORT + ON_EXIT + `
let ticks = 0;
new BackgroundThread({ daemon: true, target: () => {
  const spin = () => { ticks++; setImmediate(spin); };
  spin();
  console.log('SETUP');
} }).start();
setTimeout(() => console.log('MAIN DONE', ticks > 0), 200);
`, QUICK);
  assertExit(r, 0, ['SETUP', 'MAIN DONE true', 'EXIT 0']);
  assertPrompt(r);
});

test('a setInterval opened by a daemon target does not hold the process open', async () => {
  const r = await runChild(IMPORT + ON_EXIT + `
let ticks = 0;
// One target returns right away, one stays alive forever; both leave an interval running.
new BackgroundThread({ daemon: true, target: () => { setInterval(() => { ticks++; }, 5); } }).start();
new BackgroundThread({ daemon: true, target: () => new Promise(() => {
  setInterval(() => { ticks++; }, 7);
  console.log('SETUP');
}) }).start();
setTimeout(() => console.log('MAIN DONE', ticks > 0), 200);
`, QUICK);
  assertExit(r, 0, ['SETUP', 'MAIN DONE true', 'EXIT 0']);
  assertPrompt(r);
});

test('a net server listening on 127.0.0.1:0, opened in a daemon target, does not hold the process open', async () => {
  const r = await runChild(IMPORT + ON_EXIT + `
import net from 'node:net';
let port = 0;
const t = new BackgroundThread({ daemon: true, target: () => new Promise(() => {
  const server = net.createServer((socket) => socket.end('hello from daemon'));
  server.listen(0, '127.0.0.1', () => {
    port = server.address().port;
    console.log('LISTENING', port > 0);
  });
}) });
t.start();
// Proves the server really serves; the client socket is the main thread's and closes.
setTimeout(() => {
  const client = net.connect(port, '127.0.0.1');
  let got = '';
  client.setEncoding('utf8').on('data', (d) => { got += d; });
  client.on('close', () => console.log('GOT', got, t.isAlive()));
}, 200);
`, QUICK);
  assertExit(r, 0, ['LISTENING true', 'GOT hello from daemon true', 'EXIT 0']);
  assertPrompt(r);
});

// --- threads started by threads ------------------------------------------------------------------

test('a thread started inside another thread\'s target and never joined runs to its end (daemon=false inherited)', async () => {
  const r = await runChild(IMPORT + ON_EXIT + `
new BackgroundThread({ name: 'Outer', target: () => {
  const inner = new BackgroundThread({ name: 'Inner', target: async () => {
    // Unref'd: only the (non-daemon) thread can keep the process for it.
    await new Promise((resolve) => setTimeout(resolve, 300).unref());
    console.log('INNER DONE', currentThread().name);
  } });
  inner.start();
  console.log('OUTER', currentThread().name, 'started inner, daemon =', inner.daemon);
} }).start();
console.log('MAIN END');
`, QUICK);
  assertExit(r, 0, ['MAIN END', 'OUTER Outer started inner, daemon = false', 'INNER DONE Inner', 'EXIT 0']);
  assert.is(r.stderr, '', describe(r));
});

test('a thread created inside a daemon thread\'s target is a daemon by default (and is not waited for)', async () => {
  const r = await runChild(IMPORT + ON_EXIT + `
console.log('TOP', new BackgroundThread().daemon);
new BackgroundThread({ name: 'D', daemon: true, target: async () => {
  const inner = new BackgroundThread({ name: 'DI', target: async () => {
    console.log('INNER RAN', currentThread().name, currentThread().daemon);
    await sleep(120000);
    console.log('INNER DONE');
  } });
  const explicit = new BackgroundThread({ daemon: false });
  console.log('INHERITED', inner.daemon, inner.isDaemon(), 'EXPLICIT', explicit.daemon);
  inner.start();
  await sleep(120000);
} }).start();
setTimeout(() => console.log('MAIN DONE'), 300);
`, QUICK);
  assertExit(r, 0, ['TOP false', 'INHERITED true true EXPLICIT false', 'INNER RAN DI true', 'MAIN DONE', 'EXIT 0']);
  assertPrompt(r);
});

// --- daemon threads that yield with setImmediate ------------------------------------------------

test('a daemon thread that yields with setImmediate, joined from the main thread, ends', async () => {
  const r = await runChild(IMPORT + ON_EXIT + `
const t = new BackgroundThread({ daemon: true, target: async () => {
  await sleep(5);
  for (let i = 0; i < 200; i++) await new Promise((r) => setImmediate(r));
  console.log('YIELDED');
} });
t.start();
console.log('JOINED', await t.join());
`, QUICK);
  assertExit(r, 0, ['YIELDED', 'JOINED true', 'EXIT 0']);
});

test('a daemon thread\'s immediates run while something else holds the loop open, not at its next event', async () => {
  // The main thread holds the loop with one far-off timer; the daemon's 1,000 immediates must
  // all run before it fires (each would otherwise wait for it).
  const r = await runChild(IMPORT + ON_EXIT + `
const hold = setTimeout(() => { console.log('STARVED'); process.exit(3); }, 60000);
new BackgroundThread({ daemon: true, target: async () => {
  for (let i = 0; i < 1000; i++) await new Promise((r) => setImmediate(r));
  console.log('YIELDED');
  clearTimeout(hold);
} }).start();
`, { timeout: 90000 });
  assertExit(r, 0, ['YIELDED', 'EXIT 0']);
});

test('a daemon thread\'s endless setImmediate chain still holds nothing open', async () => {
  const r = await runChild(IMPORT + ON_EXIT + `
new BackgroundThread({ daemon: true, target: () => { const spin = () => setImmediate(spin); spin(); return new Promise(() => {}); } }).start();
setTimeout(() => console.log('MAIN DONE'), 50);
`, QUICK);
  assertExit(r, 0, ['MAIN DONE', 'EXIT 0']);
});

// --- subclasses that override daemon -----------------------------------------------------------

test('a subclass whose class field says daemon = true is a daemon thread: the process does not wait for it', async () => {
  // Were the field ignored, the never-settling target would hold the process until the kill
  // timeout.
  const r = await runChild(IMPORT + ON_EXIT + `
class Daemonic extends BackgroundThread { daemon = true; }
const t = new Daemonic({ target: () => new Promise(() => { setInterval(() => {}, 1000); }) });
t.start();
console.log('STARTED', t.daemon, t.isDaemon(), t.is_daemon(), String(t).includes('daemon'));
`, QUICK);
  assertExit(r, 0, ['STARTED true true true true', 'EXIT 0']);
});

test('a subclass whose daemon getter throws: start() throws it; no hook ever calls the getter', async () => {
  const r = await runChild(IMPORT + ON_EXIT + `
class Hostile extends BackgroundThread { get daemon() { throw new Error('no daemon for you'); } }
// A daemon thread first, so that the daemon hook is on for every resource created afterwards.
const d = new BackgroundThread({ daemon: true, target: () => new Promise((r) => setTimeout(r, 20)) });
d.start();
const h = new Hostile({ target: () => console.log('NEVER') });
try { h.start(); } catch (e) { console.log('START THREW', e.message, h.isAlive()); }
// A plain thread whose target opens resources: the hook runs for them and must not crash.
const t = new BackgroundThread({ target: async () => { await new Promise((r) => setTimeout(r, 10)); console.log('PLAIN DONE'); } });
t.start();
await t.join();
await d.join();
console.log('JOINED');
`, QUICK);
  assertExit(r, 0, ['START THREW no daemon for you false', 'PLAIN DONE', 'JOINED', 'EXIT 0']);
});

test('a subclass getter read once at start(): the value it gave then is what the thread runs with', async () => {
  const r = await runChild(IMPORT + ON_EXIT + `
class Flip extends BackgroundThread { reads = 0; get daemon() { return ++this.reads === 1; } }
const t = new Flip({ target: () => new Promise(() => {}) });
t.start();  // read once: true; later reads say false, but the thread is a daemon
console.log('READS', t.reads);
`, QUICK);
  assertExit(r, 0, ['READS 1', 'EXIT 0']);
});

test.run();
