// Teardown of a process with many live threads, each scenario REPEATED in child processes,
// several at a time, so that races between the native threads and the env going away show up:
// a natural exit with 1,000 daemon threads mid-call, process.exit(n) at every moment of the
// threads' lives and ends, and an uncaught exception on the main thread. Every run ends with its
// exit code, no signal, no crash text, before its kill timeout, and without waiting for the
// threads (a bound, never a speed check). A failing test says how many runs failed.
// TEARDOWN_TIMINGS=1 prints, per test, the runs, failures and child wall times.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  assertExit as assertExitCode, assertPrompt, describe, importHelpers, lines,
  repeatChildren as repeat,
} from './helpers/child.mjs';

// assertExit, and no marker the child prints when something happened that must not.
function assertExit(r, code) {
  assertExitCode(r, code);
  assert.not.match(r.stdout, /SHOULD NOT PRINT/, `unexpected output\n${describe(r)}`);
}

const IMPORT = "import { BackgroundThread, activeCount } from 'background-thread';\n" +
  importHelpers('wait.mjs', ['deferred', 'nextTurn', 'sleep']);
const HELPERS = `
function spawn(daemon, target) { const t = new BackgroundThread({ daemon, target }); t.start(); return t; }
`;

// --- natural exit with 1,000 live daemon threads mid-call -------------------------------------

function naturalExitSource(exitCode) {
  return IMPORT + HELPERS + `
${exitCode === null ? '' : `process.exitCode = ${exitCode};`}
let ran = 0;
let spins = 0;
const threads = [];
process.on('exit', (code) => { console.log('RAN', ran); console.log('EXIT', code); });
// 333 awaiting long timers, 334 in setImmediate-chunked loops...
for (let i = 0; i < 333; i++) threads.push(spawn(true, async () => {
  ran++;
  await sleep(60000 + i);
  console.log('SHOULD NOT PRINT');
}));
for (let i = 0; i < 334; i++) threads.push(spawn(true, async () => {
  ran++;
  for (;;) {
    for (let j = 0; j < 50; j++) spins += j & 1;
    await nextTurn();
  }
}));
// ...all of them running (a ref'd poll: the main thread is no daemon)...
await new Promise((resolve) => {
  const poll = setInterval(() => { if (ran === 667) { clearInterval(poll); resolve(); } }, 1);
});
// ...and 333 started as the very last thing: their RUN events are still queued as the script ends.
for (let i = 0; i < 333; i++) threads.push(spawn(true, () => { ran++; return new Promise(() => {}); }));
console.log('MAIN END', threads.length, threads.filter((t) => t.isAlive()).length, activeCount(), spins > 0);
`;
}

function checkNaturalExit(code) {
  return (r) => {
    assertExit(r, code);
    const out = lines(r.stdout);
    assert.is(out.length, 3, describe(r));
    assert.is(out[0], 'MAIN END 1000 1000 1001 true', describe(r));
    const ran = Number(out[1].split(' ')[1]);
    assert.ok(out[1].startsWith('RAN ') && ran >= 667 && ran <= 1000, describe(r));
    assert.is(out[2], `EXIT ${code}`, describe(r));
    assert.is(r.stderr, '', describe(r));
    assertPrompt(r);
    return `ran ${ran}`;
  };
}

test('natural exit with 1,000 live daemon threads mid-call (timers, setImmediate loops, RUN queued): exit 0, 20 runs', async () => {
  await repeat('natural exit, code 0', 20, () => ({ source: naturalExitSource(null), check: checkNaturalExit(0) }));
});

test('natural exit with process.exitCode = 4 and the same 1,000 daemon threads: exit 4, 20 runs', async () => {
  await repeat('natural exit, exitCode 4', 20, () => ({ source: naturalExitSource(4), check: checkNaturalExit(4) }));
});

// --- process.exit(n) with live daemon and non-daemon threads --------------------------------

const EXIT_CODES = [2, 3, 5, 7, 9, 42];
const ON_EXIT = "process.on('exit', (code) => { console.log('EXIT', code); });\n";

// Threads of every kind, half of them daemons: awaiting long timers, in setImmediate loops, and
// awaiting `shared` (released when the scenario wants many ends signalled at once).
const LIVE_MIX = `
const shared = deferred();
let ran = 0;
const waiting = [];
for (let i = 0; i < 100; i++) spawn(i % 2 === 0, async () => { ran++; await sleep(60000); console.log('SHOULD NOT PRINT'); });
for (let i = 0; i < 60; i++) spawn(i % 2 === 1, async () => { ran++; for (;;) await nextTurn(); });
for (let i = 0; i < 200; i++) waiting.push(spawn(i % 2 === 0, async () => { ran++; await shared.promise; }));
const allRan = () => new Promise((resolve) => {
  const poll = setInterval(() => { if (ran >= 360) { clearInterval(poll); resolve(); } }, 1);
});
`;

// When process.exit(n) comes (i: the run's index).
const EXIT_MOMENTS = {
  // Synchronously right after start(): no target has run.
  'after-start': () => `
console.log('EXITING');
process.exit(N);
`,
  // From inside a target, while the others run; every other run first releases 200 of them.
  'in-target': (i) => `
await allRan();
spawn(i % 2 === 0, async () => {
  await sleep(${1 + (i % 7)});
  ${i % 2 === 0 ? 'shared.resolve();' : ''}
  console.log('EXITING');
  process.exit(N);
});
`,
  // From a timer callback, right after releasing 200 targets (their settle reactions pending).
  'timer-sync': () => `
await allRan();
setTimeout(() => { shared.resolve(); console.log('EXITING'); process.exit(N); }, 5);
`,
  // One macrotask later: every settled() call is made, the ends are being posted and reaped.
  'timer-immediate': () => `
await allRan();
setTimeout(() => { shared.resolve(); setImmediate(() => { console.log('EXITING'); process.exit(N); }); }, 5);
`,
  // From the first join() to resolve: inside the delivery of the ends.
  'first-join': () => `
await allRan();
let first = true;
for (const t of waiting) t.join().then(() => { if (first) { first = false; console.log('EXITING'); process.exit(N); } });
setTimeout(() => shared.resolve(), 5);
`,
  // When half of the 200 ends have been delivered.
  'half-ended': () => `
await allRan();
let ended = 0;
for (const t of waiting) t.join(30).then(() => { if (++ended === 100) { console.log('EXITING'); process.exit(N); } });
setTimeout(() => shared.resolve(), 5);
`,
};

function processExitPlan(moments) {
  return (i) => {
    const name = moments[i % moments.length];
    const code = EXIT_CODES[i % EXIT_CODES.length];
    const source = IMPORT + HELPERS + ON_EXIT + `const N = ${code}; const i = ${i};\n` + LIVE_MIX +
      EXIT_MOMENTS[name](i);
    return {
      source,
      check(r) {
        assertExit(r, code);
        assert.equal(lines(r.stdout), ['EXITING', `EXIT ${code}`], `${name}\n${describe(r)}`);
        assert.is(r.stderr, '', `${name}\n${describe(r)}`);
        assertPrompt(r);
      },
    };
  };
}

test('process.exit(n) right after start() and from inside a target, with 360 live threads: exit n, 20 runs each', async () => {
  await repeat('process.exit after start / in target', 40, processExitPlan(['after-start', 'in-target']));
});

test('process.exit(n) from a timer while 200 thread ends are being signalled (4 moments): exit n, 40 runs', async () => {
  await repeat('process.exit while ends are signalled', 40,
    processExitPlan(['timer-sync', 'timer-immediate', 'first-join', 'half-ended']));
});

// --- uncaught exception on the main thread with live threads ---------------------------------

const THROW_MOMENTS = {
  // Synchronously right after start(): every RUN event still queued.
  'sync': () => `
console.log('THROWING');
throw new Error('main boom');
`,
  // From a timer: 200 targets just released (ending), 100 threads just started, the rest running.
  'timer': () => `
await allRan();
setTimeout(() => {
  shared.resolve();
  for (let i = 0; i < 100; i++) spawn(i % 2 === 0, () => sleep(60000));
  console.log('THROWING');
  throw new Error('main boom');
}, 5);
`,
  // One macrotask after the release: the ends are being posted and reaped.
  'immediate': () => `
await allRan();
setTimeout(() => {
  shared.resolve();
  setImmediate(() => {
    for (let i = 0; i < 50; i++) spawn(i % 2 === 1, () => sleep(60000));
    console.log('THROWING');
    throw new Error('main boom');
  });
}, 5);
`,
  // From a nextTick queued by the first join() to resolve: inside the delivery of the ends.
  'in-join': () => `
await allRan();
let first = true;
for (const t of waiting) t.join().then(() => {
  if (!first) return;
  first = false;
  process.nextTick(() => { console.log('THROWING'); throw new Error('main boom'); });
});
setTimeout(() => shared.resolve(), 5);
`,
};

test('an uncaught exception on the main thread with live threads (just started, running, ending): exit 1, error on stderr, 24 runs', async () => {
  const moments = Object.keys(THROW_MOMENTS);
  await repeat('uncaught exception', 24, (i) => {
    const name = moments[i % moments.length];
    return {
      source: IMPORT + HELPERS + LIVE_MIX + THROW_MOMENTS[name](i),
      check(r) {
        assertExit(r, 1);
        assert.equal(lines(r.stdout), ['THROWING'], `${name}\n${describe(r)}`);
        assert.ok(r.stderr.includes('Error: main boom'), `${name}: the error on stderr\n${describe(r)}`);
        assertPrompt(r);
      },
    };
  });
});

test.run();
