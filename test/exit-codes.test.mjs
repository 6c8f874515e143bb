// How the process ends with live threads, each case in its own child process: process.exit(n)
// (from the main thread or a target, with 300 threads, their targets run or not) and
// process.exitCode exit with that code without waiting for them; an uncaught exception or
// rejection on the main thread exits 1 with Node's report, no abort; and outside any thread
// Node's own handling of errors is exactly as without the package.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { IMPORT, ON_EXIT, QUICK, assertExit, assertNoCrash, assertPrompt, describe, lines, runChild } from './helpers/child.mjs';

// --- process.exit(), process.exitCode ----------------------------------------------------------

const MANY_THREADS = `
let ran = 0;
for (let i = 0; i < 300; i++) {
  new BackgroundThread({ daemon: i % 2 === 0, target: async () => {
    ran++;
    await sleep(120000);
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
  assertExit(r, 7, ['ALIVE 301 RAN 300', 'EXIT 7']);
  assert.is(r.stderr, '', describe(r));
  assertPrompt(r);
});

test('process.exit(7) right after starting 300 threads (targets not yet run) exits 7 promptly', async () => {
  const r = await runChild(IMPORT + ON_EXIT + MANY_THREADS + `
console.log('ALIVE', activeCount(), 'RAN', ran);
process.exit(7);
`);
  assertExit(r, 7, ['ALIVE 301 RAN 0', 'EXIT 7']);
  assert.is(r.stderr, '', describe(r));
  assertPrompt(r);
});

test('process.exit(7) called from inside a target while 300 threads are alive exits 7 promptly', async () => {
  const r = await runChild(IMPORT + ON_EXIT + MANY_THREADS + `
new BackgroundThread({ name: 'Exiter', target: async () => {
  await sleep(200);
  console.log('EXITING FROM', currentThread().name, activeCount());
  process.exit(7);
} }).start();
`);
  assertExit(r, 7, ['EXITING FROM Exiter 302', 'EXIT 7']);
  assert.is(r.stderr, '', describe(r));
  assertPrompt(r);
});

test('process.exitCode = 5 with live daemon threads: exit code 5, without waiting for them', async () => {
  const r = await runChild(IMPORT + ON_EXIT + `
const threads = [];
for (let i = 0; i < 10; i++) {
  const t = new BackgroundThread({ daemon: true, target: async () => {
    await sleep(120000);
    console.log('SHOULD NOT PRINT');
  } });
  t.start();
  threads.push(t);
}
process.exitCode = 5;
setTimeout(() => console.log('MAIN DONE', threads.filter((t) => t.isAlive()).length), 100);
`, QUICK);
  assertExit(r, 5, ['MAIN DONE 10', 'EXIT 5']);
  assert.is(r.stderr, '', describe(r));
  assertPrompt(r);
});

// --- uncaught errors on the main thread ----------------------------------------------------------

const LIVE_THREADS = `
let ran = 0;
for (let i = 0; i < 20; i++) {
  new BackgroundThread({ daemon: i % 2 === 1, target: async () => {
    ran++;
    await sleep(120000);
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
    const [plain, threaded] = await Promise.all([
      runChild(OUTSIDE(false, body), { ...QUICK, execArgv }),
      runChild(OUTSIDE(true, body), { ...QUICK, execArgv })]);
    assertNoCrash(threaded);
    assert.is(threaded.code, plain.code, `exit code\n${describe(plain)}\n${describe(threaded)}`);
    assert.is(threaded.stdout, plain.stdout, `stdout\n${describe(plain)}\n${describe(threaded)}`);
    assert.is(message(threaded.stderr), message(plain.stderr), `stderr\n${describe(plain)}\n${describe(threaded)}`);
  });
}

test.run();
