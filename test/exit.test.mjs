// Exit behaviour (SPEC §3: non-daemon, daemon, exceptions in the thread, process.exit()), each
// case in its own child process: stdout, stderr, exit code, signal and (as a generous upper
// bound only, to prove "did not wait") elapsed time.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assertExit, assertNoCrash, describe, lines, runChild } from './helpers/child.mjs';

// Kill timeout of a child whose work takes well under a second: a hang guard, generous because
// the machine is shared (the suite also runs against CPU-bound competitors: npm run test:loaded).
const QUICK = { timeout: 45000 };
// "Did not wait" bound, never a speed check: what must not be waited for sleeps 120 s.
const PROMPT_MS = 30000;

const IMPORT = "import { BackgroundThread, currentThread, activeCount, enumerate, setExcepthook, getExcepthook, excepthook } from 'background-thread';\n";
const MARKERS = `
process.on('uncaughtException', (e) => { console.log('UNCAUGHT-HANDLER', e && e.message); });
process.on('unhandledRejection', (e) => { console.log('UNHANDLED-HANDLER', e && e.message); });
`;
const ON_EXIT = "process.on('exit', (code) => { console.log('EXIT', code); });\n";

function assertPrompt(result, bound = PROMPT_MS) {
  assert.ok(result.ms < bound, `took ${Math.round(result.ms)} ms, expected < ${bound} ms\n${describe(result)}`);
}

// --- non-daemon threads keep the process alive -------------------------------------------------

test('a non-daemon thread keeps the process alive; its output comes after the main script', async () => {
  const r = await runChild(IMPORT + ON_EXIT + `
const t = new BackgroundThread({ name: 'late', target: async () => {
  await new Promise((resolve) => setTimeout(resolve, 300));
  console.log('THREAD DONE', currentThread().name);
} });
t.start();
console.log('MAIN END', t.daemon, t.isAlive());
`);
  assertExit(r, 0);
  assert.equal(lines(r.stdout), ['MAIN END false true', 'THREAD DONE late', 'EXIT 0'], describe(r));
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
  assertExit(r, 0);
  assert.equal(lines(r.stdout), ['MAIN END', 'THREAD DONE', 'EXIT 0'], describe(r));
});

test('control: the same unref\'d-timer target in a daemon thread does not hold the process', async () => {
  const r = await runChild(IMPORT + ON_EXIT + `
new BackgroundThread({ daemon: true, target: async () => {
  await new Promise((resolve) => setTimeout(resolve, 300).unref());
  console.log('THREAD DONE');
} }).start();
console.log('MAIN END');
`, QUICK);
  assertExit(r, 0);
  assert.equal(lines(r.stdout), ['MAIN END', 'EXIT 0'], describe(r));
});

// --- daemon threads do not ---------------------------------------------------------------------

test('a daemon thread sleeping on a 120 s setTimeout does not delay exit', async () => {
  const r = await runChild(IMPORT + ON_EXIT + `
const t = new BackgroundThread({ daemon: true, target: async () => {
  console.log('DAEMON RAN');
  await new Promise((resolve) => setTimeout(resolve, 120000));
  console.log('DAEMON DONE');
} });
t.start();
setTimeout(() => console.log('MAIN DONE', t.isAlive()), 200);
`, QUICK);
  assertExit(r, 0);
  assert.equal(lines(r.stdout), ['DAEMON RAN', 'MAIN DONE true', 'EXIT 0'], describe(r));
  assertPrompt(r);
});

test('a daemon thread started as the last thing of the script does not delay exit', async () => {
  const r = await runChild(IMPORT + ON_EXIT + `
new BackgroundThread({ daemon: true, target: async () => {
  await new Promise((resolve) => setTimeout(resolve, 120000));
  console.log('DAEMON DONE');
} }).start();
console.log('MAIN END');
`, QUICK);
  assertExit(r, 0);
  assert.equal(lines(r.stdout), ['MAIN END', 'EXIT 0'], describe(r));
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
  assertExit(r, 0);
  assert.equal(lines(r.stdout), ['SETUP', 'MAIN DONE true true', 'EXIT 0'], describe(r));
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
  assertExit(r, 0);
  assert.equal(lines(r.stdout), ['SETUP', 'MAIN DONE true', 'EXIT 0'], describe(r));
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
  assertExit(r, 0);
  assert.equal(lines(r.stdout), ['SETUP', 'MAIN DONE true', 'EXIT 0'], describe(r));
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
  assertExit(r, 0);
  assert.equal(lines(r.stdout), ['LISTENING true', 'GOT hello from daemon true', 'EXIT 0'], describe(r));
  assertPrompt(r);
});

// --- exceptions in threads ---------------------------------------------------------------------

const THROWING_THREADS = `
function boomTarget() { throw new Error('sync boom'); }
async function rejectTarget() { await null; throw new TypeError('async boom'); }
function returnRejectionTarget() { return Promise.reject(new RangeError('returned rejection')); }
const threads = [
  new BackgroundThread({ name: 'Thrower', target: boomTarget }),
  new BackgroundThread({ name: 'Rejecter', target: rejectTarget }),
  new BackgroundThread({ name: 'Returner', target: returnRejectionTarget }),
];
for (const t of threads) t.start();
const joined = await Promise.all(threads.map((t) => t.join(10)));
console.log('JOINED', joined.join(), threads.map((t) => t.isAlive()).join());
`;

function assertDefaultReports(r) {
  assert.match(r.stderr, /Exception in thread Thrower:\nError: sync boom\n\s+at boomTarget/, describe(r));
  assert.match(r.stderr, /Exception in thread Rejecter:\nTypeError: async boom\n\s+at rejectTarget/, describe(r));
  assert.match(r.stderr, /Exception in thread Returner:\nRangeError: returned rejection\n\s+at returnRejectionTarget/, describe(r));
  assert.not.match(r.stdout, /UNCAUGHT-HANDLER|UNHANDLED-HANDLER/, describe(r));
}

test('an exception or a rejection in a target goes to stderr, not to the process handlers; exit code 0', async () => {
  const r = await runChild(IMPORT + MARKERS + ON_EXIT + THROWING_THREADS + "console.log('MAIN END');\n", QUICK);
  assertExit(r, 0);
  assertDefaultReports(r);
  assert.equal(lines(r.stdout), ['JOINED true,true,true false,false,false', 'MAIN END', 'EXIT 0'], describe(r));
});

test('an exception in a target leaves process.exitCode as it was set (3)', async () => {
  const r = await runChild(IMPORT + MARKERS + ON_EXIT + 'process.exitCode = 3;\n' + THROWING_THREADS, QUICK);
  assertExit(r, 3);
  assertDefaultReports(r);
  assert.equal(lines(r.stdout), ['JOINED true,true,true false,false,false', 'EXIT 3'], describe(r));
});

test('an exception in a thread nobody joins still ends it and leaves the exit code 0', async () => {
  const r = await runChild(IMPORT + MARKERS + ON_EXIT + `
new BackgroundThread({ name: 'Lonely', target: async () => {
  await new Promise((resolve) => setTimeout(resolve, 50));
  throw new Error('nobody listens');
} }).start();
console.log('MAIN END');
`, QUICK);
  assertExit(r, 0);
  assert.match(r.stderr, /Exception in thread Lonely:\nError: nobody listens/, describe(r));
  assert.equal(lines(r.stdout), ['MAIN END', 'EXIT 0'], describe(r));
});

test('a custom excepthook receives {excType, excValue, excTraceback, thread} with the right thread', async () => {
  const r = await runChild(IMPORT + MARKERS + ON_EXIT + `
const seen = [];
const hook = (args) => { seen.push(args); };
setExcepthook(hook);
console.log('HOOK SET', getExcepthook() === hook);
function firstTarget() { throw new SyntaxError('first'); }
async function secondTarget() { await new Promise((resolve) => setTimeout(resolve, 20)); throw new RangeError('second'); }
const threads = {
  A: new BackgroundThread({ name: 'A', target: firstTarget }),
  B: new BackgroundThread({ name: 'B', target: secondTarget }),
  C: new BackgroundThread({ name: 'C', target: () => { throw 42; } }),
};
for (const t of Object.values(threads)) t.start();
await Promise.all(Object.values(threads).map((t) => t.join(10)));
seen.sort((x, y) => (x.thread.name < y.thread.name ? -1 : 1));
for (const a of seen) {
  console.log(JSON.stringify({
    keys: Object.keys(a).sort().join(),
    thread: a.thread.name,
    sameThread: a.thread === threads[a.thread.name],
    excType: a.excType && a.excType.name,
    excValue: a.excValue instanceof Error ? a.excValue.message : a.excValue,
    valueMatchesType: Object(a.excValue) instanceof a.excType,
    traceback: typeof a.excTraceback === 'string'
      ? a.excTraceback.split('\\n')[0] + (a.excTraceback.includes(a.thread.name === 'A' ? 'firstTarget' : 'secondTarget') ? ' +frame' : ' -frame')
      : String(a.excTraceback),
  }));
}
// null restores the default hook, which prints to stderr.
setExcepthook(null);
console.log('RESTORED', getExcepthook() === excepthook);
const d = new BackgroundThread({ name: 'D', target: () => { throw new Error('after restore'); } });
d.start();
await d.join(10);
console.log('COUNT', seen.length);
`, QUICK);
  assertExit(r, 0);
  assert.equal(lines(r.stdout), [
    'HOOK SET true',
    JSON.stringify({ keys: 'excTraceback,excType,excValue,thread', thread: 'A', sameThread: true, excType: 'SyntaxError', excValue: 'first', valueMatchesType: true, traceback: 'SyntaxError: first +frame' }),
    JSON.stringify({ keys: 'excTraceback,excType,excValue,thread', thread: 'B', sameThread: true, excType: 'RangeError', excValue: 'second', valueMatchesType: true, traceback: 'RangeError: second +frame' }),
    JSON.stringify({ keys: 'excTraceback,excType,excValue,thread', thread: 'C', sameThread: true, excType: 'Number', excValue: 42, valueMatchesType: true, traceback: 'undefined' }),
    'RESTORED true',
    'COUNT 3',
    'EXIT 0',
  ], describe(r));
  // The custom hook replaced the default one: only the thread after the restore printed.
  assert.not.match(r.stderr, /Exception in thread [ABC]:/, describe(r));
  assert.match(r.stderr, /Exception in thread D:\nError: after restore/, describe(r));
});

test('an excepthook that throws (or rejects) prints "Exception in threading.excepthook:" and its error; exit 0', async () => {
  const r = await runChild(IMPORT + MARKERS + ON_EXIT + `
setExcepthook(() => { throw new Error('hook is broken'); });
const a = new BackgroundThread({ name: 'H1', target: () => { throw new Error('original one'); } });
a.start();
await a.join(10);
setExcepthook(async () => { await null; throw new Error('async hook is broken'); });
const b = new BackgroundThread({ name: 'H2', target: () => { throw new Error('original two'); } });
b.start();
await b.join(10);
await new Promise((resolve) => setTimeout(resolve, 50));
console.log('MAIN END');
`, QUICK);
  assertExit(r, 0);
  assert.match(r.stderr, /Exception in threading\.excepthook:\nError: hook is broken\n\s+at /, describe(r));
  assert.match(r.stderr, /Exception in threading\.excepthook:\nError: async hook is broken/, describe(r));
  assert.not.match(r.stdout, /UNCAUGHT-HANDLER|UNHANDLED-HANDLER/, describe(r));
  assert.equal(lines(r.stdout), ['MAIN END', 'EXIT 0'], describe(r));
});

// --- process.exit(), process.exitCode ----------------------------------------------------------

const MANY_THREADS = `
let ran = 0;
for (let i = 0; i < 300; i++) {
  new BackgroundThread({ daemon: i % 2 === 0, target: async () => {
    ran++;
    await new Promise((resolve) => setTimeout(resolve, 120000));
    console.log('SHOULD NOT PRINT');
  } }).start();
}
`;

test('process.exit(7) with 300 live threads (daemon and not, targets awaiting long timers) exits 7 promptly', async () => {
  const r = await runChild(IMPORT + ON_EXIT + MANY_THREADS + `
setTimeout(() => {
  console.log('ALIVE', activeCount(), 'RAN', ran);
  process.exit(7);
}, 200);
`);
  assertExit(r, 7);
  assert.equal(lines(r.stdout), ['ALIVE 301 RAN 300', 'EXIT 7'], describe(r));
  assert.is(r.stderr, '', describe(r));
  assertPrompt(r);
});

test('process.exit(7) right after starting 300 threads (targets not yet run) exits 7 promptly', async () => {
  const r = await runChild(IMPORT + ON_EXIT + MANY_THREADS + `
console.log('ALIVE', activeCount(), 'RAN', ran);
process.exit(7);
`);
  assertExit(r, 7);
  assert.equal(lines(r.stdout), ['ALIVE 301 RAN 0', 'EXIT 7'], describe(r));
  assert.is(r.stderr, '', describe(r));
  assertPrompt(r);
});

test('process.exit(7) called from inside a target while 300 threads are alive exits 7 promptly', async () => {
  const r = await runChild(IMPORT + ON_EXIT + MANY_THREADS + `
new BackgroundThread({ name: 'Exiter', target: async () => {
  await new Promise((resolve) => setTimeout(resolve, 200));
  console.log('EXITING FROM', currentThread().name, activeCount());
  process.exit(7);
} }).start();
`);
  assertExit(r, 7);
  assert.equal(lines(r.stdout), ['EXITING FROM Exiter 302', 'EXIT 7'], describe(r));
  assert.is(r.stderr, '', describe(r));
  assertPrompt(r);
});

test('process.exitCode = 5 with live daemon threads: exit code 5, without waiting for them', async () => {
  const r = await runChild(IMPORT + ON_EXIT + `
const threads = [];
for (let i = 0; i < 10; i++) {
  const t = new BackgroundThread({ daemon: true, target: async () => {
    await new Promise((resolve) => setTimeout(resolve, 120000));
    console.log('SHOULD NOT PRINT');
  } });
  t.start();
  threads.push(t);
}
process.exitCode = 5;
setTimeout(() => console.log('MAIN DONE', threads.filter((t) => t.isAlive()).length), 100);
`, QUICK);
  assertExit(r, 5);
  assert.equal(lines(r.stdout), ['MAIN DONE 10', 'EXIT 5'], describe(r));
  assert.is(r.stderr, '', describe(r));
  assertPrompt(r);
});

// --- threads started by threads -------------------------------------------------------------------

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
  assertExit(r, 0);
  assert.equal(lines(r.stdout), ['MAIN END', 'OUTER Outer started inner, daemon = false', 'INNER DONE Inner', 'EXIT 0'], describe(r));
  assert.is(r.stderr, '', describe(r));
});

test('a thread created inside a daemon thread\'s target is a daemon by default (and is not waited for)', async () => {
  const r = await runChild(IMPORT + ON_EXIT + `
console.log('TOP', new BackgroundThread().daemon);
new BackgroundThread({ name: 'D', daemon: true, target: async () => {
  const inner = new BackgroundThread({ name: 'DI', target: async () => {
    console.log('INNER RAN', currentThread().name, currentThread().daemon);
    await new Promise((resolve) => setTimeout(resolve, 120000));
    console.log('INNER DONE');
  } });
  const explicit = new BackgroundThread({ daemon: false });
  console.log('INHERITED', inner.daemon, inner.isDaemon(), 'EXPLICIT', explicit.daemon);
  inner.start();
  await new Promise((resolve) => setTimeout(resolve, 120000));
} }).start();
setTimeout(() => console.log('MAIN DONE'), 300);
`, QUICK);
  assertExit(r, 0);
  assert.equal(lines(r.stdout), ['TOP false', 'INHERITED true true EXPLICIT false', 'INNER RAN DI true', 'MAIN DONE', 'EXIT 0'], describe(r));
  assertPrompt(r);
});

// --- uncaught errors on the main thread ------------------------------------------------------------

const LIVE_THREADS = `
let ran = 0;
for (let i = 0; i < 20; i++) {
  new BackgroundThread({ daemon: i % 2 === 1, target: async () => {
    ran++;
    await new Promise((resolve) => setTimeout(resolve, 120000));
  } }).start();
}
`;

function assertMainCrash(r, message) {
  assertExit(r, 1);
  assert.ok(r.stderr.includes(message), `stderr lacks ${message}\n${describe(r)}`);
  assertPrompt(r);
}

test('an uncaught exception on the main thread while threads are alive: exit 1, error on stderr, no abort', async () => {
  const r = await runChild(IMPORT + LIVE_THREADS + `
setTimeout(() => {
  console.log('THROWING', ran, activeCount());
  throw new Error('main boom');
}, 200);
`, QUICK);
  assertMainCrash(r, 'Error: main boom');
  assert.equal(lines(r.stdout), ['THROWING 20 21'], describe(r));
});

test('a synchronous throw right after start() (targets not yet run): exit 1, no abort', async () => {
  const r = await runChild(IMPORT + LIVE_THREADS + `
throw new Error('early boom');
`, QUICK);
  assertMainCrash(r, 'Error: early boom');
});

test('an unhandled rejection on the main thread while threads are alive: exit 1, no abort', async () => {
  const r = await runChild(IMPORT + LIVE_THREADS + `
setTimeout(() => { Promise.reject(new Error('main rejection')); }, 200);
`, QUICK);
  assertMainCrash(r, 'main rejection');
});

// --- errors raised in a thread's context outside its target's call ------------------------------

test('a thread\'s timer, immediate, emitter and floating rejections go to the excepthook; exit code 0', async () => {
  // An uncaughtException listener is there and never hears of them.
  const r = await runChild(IMPORT + MARKERS.replace(/.*unhandledRejection.*\n/, '') + ON_EXIT + `
import { EventEmitter } from 'node:events';
setExcepthook((args) => console.log('HOOK', args.thread === t, args.thread.name, String(args.excValue?.message ?? args.excValue).slice(0, 40)));
const t = new BackgroundThread({ name: 'worker', target: () => new Promise((resolve) => {
  setTimeout(() => { throw new Error('from a timer'); }, 5);
  setTimeout(() => { setImmediate(() => { throw new Error('from an immediate'); }); }, 20);
  setTimeout(() => { new EventEmitter().emit('error', new Error('from an emitter')); }, 40);
  setTimeout(() => { Promise.reject(new Error('floating rejection')); }, 60);
  setTimeout(() => { new Promise((_, reject) => setTimeout(reject, 1, new Error('late rejection'))); }, 80);
  setTimeout(resolve, 150);
}) });
t.start();
console.log('JOINED', await t.join(), process.exitCode);
`, QUICK);
  assertExit(r, 0);
  // In any order: on a loaded machine the timers may fire in one turn.
  assert.equal(lines(r.stdout).slice(0, 5).sort(), [
    'HOOK true worker floating rejection', 'HOOK true worker from a timer', 'HOOK true worker from an emitter',
    'HOOK true worker from an immediate', 'HOOK true worker late rejection',
  ], describe(r));
  assert.equal(lines(r.stdout).slice(5), ['JOINED true undefined', 'EXIT 0'], describe(r));
  assert.is(r.stderr, '', describe(r));
});

test('an application\'s own unhandledRejection listener hears a thread\'s rejections first (Node asks it before anything else)', async () => {
  const r = await runChild(IMPORT + MARKERS + ON_EXIT + `
setExcepthook((args) => console.log('HOOK', args.excValue.message));
const t = new BackgroundThread({ target: () => { Promise.reject(new Error('floating')); setTimeout(() => { throw new Error('thrown'); }, 20); return new Promise((r) => setTimeout(r, 50)); } });
t.start();
await t.join();
`, QUICK);
  assertExit(r, 0);
  assert.equal(lines(r.stdout), ['UNHANDLED-HANDLER floating', 'HOOK thrown', 'EXIT 0'], describe(r));
});

test('a thread\'s callback error after its target settled still goes to the excepthook (its context lives on)', async () => {
  const r = await runChild(IMPORT + ON_EXIT + `
setExcepthook((args) => console.log('HOOK', args.thread.name, args.excValue.message, args.thread.isAlive()));
const t = new BackgroundThread({ name: 'gone', target: () => {
  const poll = setInterval(() => { if (!t.isAlive()) { clearInterval(poll); throw new Error('after the end'); } }, 5);
} });
t.start();
await t.join();
console.log('JOINED');
`, QUICK);
  assertExit(r, 0);
  assert.equal(lines(r.stdout), ['JOINED', 'HOOK gone after the end false', 'EXIT 0'], describe(r));
});

// The same script with and without threads: outside any thread, Node's own handling is unchanged.
const OUTSIDE = (withThread, body) => (withThread ? IMPORT + `
const t = new BackgroundThread({ target: () => new Promise((r) => setTimeout(r, 10)) });
t.start();
await t.join();
` : '') + body;
// Node's message, without the stack frames (their line numbers differ by the lines added above).
const message = (stderr) => lines(stderr).filter((line) => !/^\s+at |^\[eval\]|^\s*\^|^file:/.test(line)).join('\n')
  .replace(/\(node:\d+\)/g, '(node:PID)');

for (const [what, body, execArgv] of [
  ['an uncaught exception', "setTimeout(() => { throw new Error('outside'); }, 1);", []],
  ['an unhandled rejection', "setTimeout(() => { Promise.reject(new Error('outside')); }, 1);", []],
  ['a rejection with a non-Error', "setTimeout(() => { Promise.reject('outside'); }, 1);", []],
  ['a rejection under --unhandled-rejections=warn', "setTimeout(() => { Promise.reject(new Error('outside')); }, 1);", ['--unhandled-rejections=warn']],
  ['a rejection under --unhandled-rejections=strict', "process.on('unhandledRejection', () => console.log('LISTENER'));\nsetTimeout(() => { Promise.reject(new Error('outside')); }, 1);", ['--unhandled-rejections=strict']],
  ['an exception with an uncaughtException listener', "process.on('uncaughtException', (e) => console.log('LISTENER', e.message));\nsetTimeout(() => { throw new Error('outside'); }, 1);", []],
]) {
  test(`outside any thread, ${what} is handled by Node exactly as without the package`, async () => {
    const [plain, threaded] = await Promise.all([runChild(OUTSIDE(false, body), { ...QUICK, execArgv }),
      runChild(OUTSIDE(true, body), { ...QUICK, execArgv })]);
    assertNoCrash(threaded);
    assert.is(threaded.code, plain.code, `exit code\n${describe(plain)}\n${describe(threaded)}`);
    assert.is(threaded.stdout, plain.stdout, `stdout\n${describe(plain)}\n${describe(threaded)}`);
    assert.is(message(threaded.stderr), message(plain.stderr), `stderr\n${describe(plain)}\n${describe(threaded)}`);
  });
}

// --- daemon threads that yield with setImmediate ------------------------------------------------

test('a daemon thread that yields with setImmediate, joined from the main thread, ends', async () => {
  const r = await runChild(IMPORT + ON_EXIT + `
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const t = new BackgroundThread({ daemon: true, target: async () => {
  await sleep(5);
  for (let i = 0; i < 200; i++) await new Promise((r) => setImmediate(r));
  console.log('YIELDED');
} });
t.start();
console.log('JOINED', await t.join());
`, QUICK);
  assertExit(r, 0);
  assert.equal(lines(r.stdout), ['YIELDED', 'JOINED true', 'EXIT 0'], describe(r));
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
  assertExit(r, 0);
  assert.equal(lines(r.stdout), ['YIELDED', 'EXIT 0'], describe(r));
});

test('a daemon thread\'s endless setImmediate chain still holds nothing open', async () => {
  const r = await runChild(IMPORT + ON_EXIT + `
new BackgroundThread({ daemon: true, target: () => { const spin = () => setImmediate(spin); spin(); return new Promise(() => {}); } }).start();
setTimeout(() => console.log('MAIN DONE'), 50);
`, QUICK);
  assertExit(r, 0);
  assert.equal(lines(r.stdout), ['MAIN DONE', 'EXIT 0'], describe(r));
});

// --- subclasses that override daemon -----------------------------------------------------------

test('a subclass whose class field says daemon = true is a daemon thread: the process does not wait for it', async () => {
  // Were the field ignored, the never-settling target would hold the process until the kill timeout.
  const r = await runChild(IMPORT + ON_EXIT + `
class Daemonic extends BackgroundThread { daemon = true; }
const t = new Daemonic({ target: () => new Promise(() => { setInterval(() => {}, 1000); }) });
t.start();
console.log('STARTED', t.daemon, t.isDaemon(), t.is_daemon(), String(t).includes('daemon'));
`, QUICK);
  assertExit(r, 0);
  assert.equal(lines(r.stdout), ['STARTED true true true true', 'EXIT 0'], describe(r));
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
  assertExit(r, 0);
  assert.equal(lines(r.stdout), ['START THREW no daemon for you false', 'PLAIN DONE', 'JOINED', 'EXIT 0'], describe(r));
});

test('a subclass getter read once at start(): the value it gave then is what the thread runs with', async () => {
  const r = await runChild(IMPORT + ON_EXIT + `
class Flip extends BackgroundThread { reads = 0; get daemon() { return ++this.reads === 1; } }
const t = new Flip({ target: () => new Promise(() => {}) });
t.start();  // read once: true; later reads say false, but the thread is a daemon
console.log('READS', t.reads);
`, QUICK);
  assertExit(r, 0);
  assert.equal(lines(r.stdout), ['READS 1', 'EXIT 0'], describe(r));
});

test.run();
