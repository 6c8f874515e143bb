// A thread's exceptions, each case in its own child process: what its target throws or rejects,
// and what its timers, immediates, emitters and floating promises raise (even after the target
// settled), goes to the excepthook (the default one prints "Exception in thread NAME:" and the
// stack to stderr), never to the process's uncaughtException / unhandledRejection handlers, and
// leaves the exit code as it was; a hook that throws is reported, and the process goes on.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { IMPORT, MARKERS, ON_EXIT, QUICK, assertExit, describe, lines, runChild } from './helpers/child.mjs';

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
  assertExit(r, 0, ['JOINED true,true,true false,false,false', 'MAIN END', 'EXIT 0']);
  assertDefaultReports(r);
});

test('an exception in a target leaves process.exitCode as it was set (3)', async () => {
  const r = await runChild(IMPORT + MARKERS + ON_EXIT + 'process.exitCode = 3;\n' + THROWING_THREADS, QUICK);
  assertExit(r, 3, ['JOINED true,true,true false,false,false', 'EXIT 3']);
  assertDefaultReports(r);
});

test('an exception in a thread nobody joins still ends it and leaves the exit code 0', async () => {
  const r = await runChild(IMPORT + MARKERS + ON_EXIT + `
new BackgroundThread({ name: 'Lonely', target: async () => {
  await sleep(50);
  throw new Error('nobody listens');
} }).start();
console.log('MAIN END');
`, QUICK);
  assertExit(r, 0, ['MAIN END', 'EXIT 0']);
  assert.match(r.stderr, /Exception in thread Lonely:\nError: nobody listens/, describe(r));
});

test('a custom excepthook receives {excType, excValue, excTraceback, thread} with the right thread', async () => {
  const r = await runChild(IMPORT + MARKERS + ON_EXIT + `
const seen = [];
const hook = (args) => { seen.push(args); };
setExcepthook(hook);
console.log('HOOK SET', getExcepthook() === hook);
function firstTarget() { throw new SyntaxError('first'); }
async function secondTarget() { await sleep(20); throw new RangeError('second'); }
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
  assertExit(r, 0, [
    'HOOK SET true',
    JSON.stringify({ keys: 'excTraceback,excType,excValue,thread', thread: 'A', sameThread: true, excType: 'SyntaxError', excValue: 'first', valueMatchesType: true, traceback: 'SyntaxError: first +frame' }),
    JSON.stringify({ keys: 'excTraceback,excType,excValue,thread', thread: 'B', sameThread: true, excType: 'RangeError', excValue: 'second', valueMatchesType: true, traceback: 'RangeError: second +frame' }),
    JSON.stringify({ keys: 'excTraceback,excType,excValue,thread', thread: 'C', sameThread: true, excType: 'Number', excValue: 42, valueMatchesType: true, traceback: 'undefined' }),
    'RESTORED true',
    'COUNT 3',
    'EXIT 0',
  ]);
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
await sleep(50);
console.log('MAIN END');
`, QUICK);
  assertExit(r, 0, ['MAIN END', 'EXIT 0']);   // nothing reached the process's handlers
  assert.match(r.stderr, /Exception in threading\.excepthook:\nError: hook is broken\n\s+at /, describe(r));
  assert.match(r.stderr, /Exception in threading\.excepthook:\nError: async hook is broken/, describe(r));
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
  assertExit(r, 0, ['UNHANDLED-HANDLER floating', 'HOOK thrown', 'EXIT 0']);
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
  assertExit(r, 0, ['JOINED', 'HOOK gone after the end false', 'EXIT 0']);
});

test.run();
