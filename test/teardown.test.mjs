// Teardown hardening (SPEC §3 rows "daemon", "process.exit()", "workers"; NATIVE-NOTES: the TSFN
// freed at env teardown, Workers that dlclose the addon). Every scenario runs in a CHILD PROCESS
// and is REPEATED, several children at a time, so that races between the native threads and
// the env going away show up. Each run must end with the expected exit code, no signal, no crash
// text (FATAL ERROR, Aborted, Segmentation fault, terminate called, ...) and within its kill
// timeout (a hang fails the run). A failing test reports how many runs failed, and the first few.
//
// Set TEARDOWN_TIMINGS=1 to print, per test, the runs, failures and child wall times.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { availableParallelism } from 'node:os';
import { assertExit as assertExitCode, describe, lines, runChild } from './helpers/child.mjs';

const TERMINATE_WORKER = new URL('./fixtures/teardown-worker.mjs', import.meta.url);
const EXITING_WORKER = new URL('./fixtures/teardown-worker-exit.mjs', import.meta.url);

// Children at a time: enough to overlap their startup, not so many that 2 cores thrash.
const CONCURRENCY = Math.max(2, Math.min(4, availableParallelism() + 1));
// Kill timeout of a child whose work takes well under a second: a hang fails the run.
const QUICK_MS = 45000;
// "Did not wait for the live threads" (a daemon sleeps 60 s): a bound, never a speed check, and
// generous: the machine is shared (npm run test:loaded runs the suite against competitors).
const PROMPT_MS = 30000;
const TIMINGS = process.env.TEARDOWN_TIMINGS === '1';

// assertExit, and no marker a fixture prints when something happened that must not.
function assertExit(r, code) {
  assertExitCode(r, code);
  assert.not.match(r.stdout, /SHOULD NOT PRINT|WORKER ERROR|BUG/, `unexpected output\n${describe(r)}`);
}

function assertPrompt(r, bound = PROMPT_MS) {
  assert.ok(r.ms < bound, `took ${Math.round(r.ms)} ms, expected < ${bound} ms\n${describe(r)}`);
}

/**
 * Runs `runs` children, `CONCURRENCY` at a time. `plan(i)` returns { source, check(r), timeout }.
 * Collects every failure (assertion, crash, hang) and fails once at the end with the count.
 */
async function repeat(label, runs, plan, concurrency = CONCURRENCY) {
  const failures = [];
  const times = [];
  const notes = [];
  const started = performance.now();
  let next = 0;
  async function lane() {
    while (next < runs) {
      const i = next++;
      const { source, check, timeout = QUICK_MS } = plan(i);
      let r;
      try {
        r = await runChild(source, { timeout });
      } catch (error) {
        failures.push(`run ${i}: ${error.message}`);  // a hang: killed after `timeout`
        continue;
      }
      times.push(r.ms);
      try {
        const note = check(r, i);
        if (note !== undefined) notes.push(note);
      } catch (error) {
        failures.push(`run ${i}: ${error.message}`);
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, runs) }, lane));
  if (TIMINGS) {
    times.sort((a, b) => a - b);
    const median = times.length ? Math.round(times[times.length >> 1]) : 0;
    const max = times.length ? Math.round(times[times.length - 1]) : 0;
    console.log(`\n  [teardown] ${label}: ${runs} runs, ${failures.length} failed, ` +
      `child median ${median} ms, max ${max} ms, wall ${Math.round(performance.now() - started)} ms`);
    if (notes.length) console.log(`  [teardown] ${label}: ${notes.join('; ')}`);
  }
  assert.ok(failures.length === 0,
    `${label}: ${failures.length} of ${runs} runs failed\n\n${failures.slice(0, 3).join('\n\n')}`);
}

const IMPORT = "import { BackgroundThread, activeCount } from 'background-thread';\n";
const HELPERS = `
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
function gate() { let resolve; const promise = new Promise((r) => { resolve = r; }); return { promise, resolve }; }
function spawn(daemon, target) { const t = new BackgroundThread({ daemon, target }); t.start(); return t; }
`;

// --- 1. natural exit with 1,000 live daemon threads mid-call -------------------------------------

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

test('1. natural exit with 1,000 live daemon threads mid-call (timers, setImmediate loops, RUN queued): exit 0, 20 runs', async () => {
  await repeat('natural exit, code 0', 20, () => ({ source: naturalExitSource(null), check: checkNaturalExit(0) }));
});

test('1. the same with process.exitCode = 4: exit 4, 20 runs', async () => {
  await repeat('natural exit, exitCode 4', 20, () => ({ source: naturalExitSource(4), check: checkNaturalExit(4) }));
});

// --- 2. process.exit(n) with live daemon and non-daemon threads --------------------------------

const EXIT_CODES = [2, 3, 5, 7, 9, 42];
const ON_EXIT = "process.on('exit', (code) => { console.log('EXIT', code); });\n";

// Threads of every kind, half of them daemons: awaiting long timers, in setImmediate loops, and
// awaiting `shared` (released when the scenario wants many ends signalled at once).
const LIVE_MIX = `
const shared = gate();
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

test('2. process.exit(n) right after start() and from inside a target, with 360 live threads: exit n, 20 runs each', async () => {
  await repeat('process.exit after start / in target', 40, processExitPlan(['after-start', 'in-target']));
});

test('2. process.exit(n) from a timer while 200 thread ends are being signalled (4 moments): exit n, 40 runs', async () => {
  await repeat('process.exit while ends are signalled', 40,
    processExitPlan(['timer-sync', 'timer-immediate', 'first-join', 'half-ended']));
});

// --- 3. uncaught exception on the main thread with live threads ---------------------------------

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

test('3. an uncaught exception on the main thread with live threads (just started, running, ending): exit 1, error on stderr, 24 runs', async () => {
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

// --- 4. Workers terminated 50 times while they hold live threads --------------------------------

// Shared by the Worker children (4 and 5). A Worker started from a `-e` script inherits
// --input-type, which Workers refuse: hence execArgv: [].
const WORKER_PRELUDE = `
import { Worker } from 'node:worker_threads';
import { readdirSync, promises as fsp } from 'node:fs';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const linux = process.platform === 'linux';
const tasks = () => (linux ? readdirSync('/proc/self/task').length : 0);
const problems = [];
// Hang guards inside the child, generous (each awaited step takes well under a second unloaded):
// under npm run test:loaded with other suites running, a Worker's terminate() was seen to take
// over 10 s.
function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([promise, new Promise((resolve) => {
    timer = setTimeout(() => { console.log('HANG', what); process.exit(70); }, ms);
  })]).finally(() => clearTimeout(timer));
}
function spawnWorker(url, workerData) {
  const worker = new Worker(url, { workerData, execArgv: [] });
  const messages = [];
  let onMessage = () => {};
  worker.on('message', (m) => {
    messages.push(m);
    if (m.kind === 'bug' || m.kind === 'woke') problems.push(workerData.mode + ': ' + JSON.stringify(m));
    onMessage(m);
  });
  worker.on('error', (e) => problems.push((workerData.mode ?? 'worker') + ': error event: ' + (e && e.stack)));
  const exited = new Promise((resolve) => worker.on('exit', resolve));
  const next = (kind) => new Promise((resolve, reject) => {
    const found = messages.find((m) => m.kind === kind);
    if (found) return resolve(found);
    onMessage = (m) => { if (m.kind === kind) resolve(m); };
    exited.then((code) => reject(new Error(workerData.mode + ': exited (' + code + ') before ' + kind)));
  });
  return { worker, messages, exited, next };
}
// Baseline of OS threads once Node's own lazily started threads exist: a Worker that loaded the
// addon has come and gone, and the libuv threadpool has run.
async function warmUp(url) {
  const w = spawnWorker(url, { mode: 'warm' });
  const warm = await withTimeout(w.next('warm'), 30000, 'warm-up');
  if (warm.joined !== true) problems.push('warm-up join: ' + warm.joined);
  await withTimeout(w.exited, 30000, 'warm-up exit');
  await fsp.readFile(url);
  await sleep(50);
  return tasks();
}
// OS threads must come back near the baseline: orphaned native threads have exited.
async function settleTasks(baseline, slack) {
  const after = tasks();
  const deadline = Date.now() + 2000;
  let now = after;
  while (now > baseline + slack && Date.now() < deadline) { await sleep(20); now = tasks(); }
  return { after, now };
}
// The child's own main thread still starts and joins threads: 100 at once. The package is
// loaded here, only now: until then only the Workers had the addon loaded, so each Worker's end
// really dlclose()d it (with the main thread holding it, the unload would never happen).
async function hundredThreads() {
  const { BackgroundThread } = await import('background-thread');
  let ran = 0;
  const threads = [];
  for (let i = 0; i < 100; i++) {
    const t = new BackgroundThread({ daemon: i % 2 === 0, target: async () => { await sleep(1 + (i % 5)); ran++; } });
    t.start();
    threads.push(t);
  }
  const joined = await withTimeout(Promise.all(threads.map((t) => t.join(10))), 30000, 'join 100');
  return joined.filter(Boolean).length + ' ' + ran + ' ' + new Set(threads.map((t) => t.nativeId)).size +
    ' ' + threads.some((t) => t.isAlive());
}
`;

const SLACK = 8;

// 50 terminates: mode, and when after the Worker's 'ready' the terminate() comes.
//   'boot': no 'ready': a few ms after new Worker(), while it loads the addon and starts threads.
const TERMINATE_PLAN = [
  ['blocked', 'sync'], ['running', 'sync'], ['settling', 'sync'], ['tight', 'ms'], ['joins', 'sync'],
  ['settle-loop', 'ms'], ['settling-late', 'sync'], ['boot', 'ms'], ['tight', 'sync'], ['joins', 'ms'],
  ['settling', 'immediate'], ['blocked', 'ms'], ['running', 'ms'], ['settle-loop', 'sync'], ['tight', 'immediate'],
  ['settling-late', 'microtask'], ['boot', 'ms'], ['joins', 'immediate'], ['tight', 'ms'], ['settle-loop', 'ms'],
  ['settling', 'microtask'], ['running', 'immediate'], ['blocked', 'sync'], ['tight', 'ms'], ['settling-late', 'sync'],
];

const terminateSource = (seed, lanes) => WORKER_PRELUDE + `
const LANES = ${lanes};
const URL_ = new URL(${JSON.stringify(TERMINATE_WORKER.href)});
const PLAN = ${JSON.stringify([...TERMINATE_PLAN, ...TERMINATE_PLAN])};
const SEED = ${seed};
const baseline = await warmUp(URL_);
const started = Date.now();
let done = 0;
const landed = { settling: [], 'settling-late': [], tight: [] };
async function round(k) {
  const [mode, when] = PLAN[k];
  const count = mode === 'tight' ? 48 : mode.startsWith('settl') ? 64 : 32;
  const probe = new SharedArrayBuffer(8);
  const w = spawnWorker(URL_, { mode: mode === 'boot' ? 'running' : mode, count, probe });
  const jitter = (k * 7 + SEED) % 12;
  try {
    if (mode === 'boot') {
      await sleep(jitter * 3);
    } else {
      const ready = await withTimeout(w.next('ready'), 30000, mode + ' ready');
      if (mode === 'blocked' && (ready.alive !== count || w.messages.some((m) => m.kind === 'ran'))) {
        problems.push('blocked: a target ran or a thread was not alive: ' + JSON.stringify(w.messages));
      }
      if (when === 'microtask') await null;
      else if (when === 'immediate') await new Promise((resolve) => setImmediate(resolve));
      else if (when === 'ms') await sleep(jitter);
    }
  } catch (error) {
    problems.push(error.message);
  }
  const code = await withTimeout(w.worker.terminate(), 30000, mode + ' terminate()');
  const exitCode = await withTimeout(w.exited, 30000, mode + ' exit event');
  if (typeof code !== 'number' || code !== exitCode) problems.push(mode + ': terminate() gave ' + code + ', exit ' + exitCode);
  // Diagnostics: where the terminate landed (ends delivered of count; phase of the tight loop).
  const where = new Int32Array(probe);
  if (mode.startsWith('settling')) landed[mode].push(where[0] + '/' + count);
  if (mode === 'tight') landed.tight.push(where[1]);
  done++;
}
// One Worker at a time (the addon is unloaded at each end) or two (terminates overlap).
let next = 0;
await Promise.all(Array.from({ length: LANES }, async () => { while (next < PLAN.length) await round(next++); }));
console.log('TERMINATED', done);
const { after, now } = await settleTasks(baseline, ${SLACK});
console.log('TASKS', linux ? (now <= baseline + ${SLACK} ? 'settled' : 'PILED UP') : 'settled', JSON.stringify({ baseline, after, now, ms: Date.now() - started, landed }));
console.log('JOINED', await hundredThreads());
for (const p of problems) console.log('PROBLEM', p);
`;

function checkWorkerChild(r, doneLine) {
  assertExit(r, 0);
  const out = lines(r.stdout);
  assert.not.ok(out.some((l) => l.startsWith('PROBLEM') || l.startsWith('HANG')), describe(r));
  assert.is(out[0], doneLine, describe(r));
  assert.ok(out[1].startsWith('TASKS settled '), `OS threads did not come back to the baseline\n${describe(r)}`);
  assert.is(out[2], 'JOINED 100 100 100 false', describe(r));
  assert.is(out.length, 3, describe(r));
  return JSON.parse(out[1].slice('TASKS settled '.length));
}

test('4. 50 Worker terminates (blocked, running, settling, tight start/join, pending timed joins, booting), then 100 threads: exit 0, OS threads back to baseline; 6 children', async () => {
  await repeat('Worker terminate x50', 6, (i) => ({
    source: terminateSource(i * 5, 1 + (i % 2)),
    timeout: 150000,
    check(r) { return JSON.stringify(checkWorkerChild(r, 'TERMINATED 50')); },
  }), 2);
});

// --- 5. Workers that end by themselves with daemon threads alive (dlclose) ------------------------

const EXITING_SOURCE = WORKER_PRELUDE + `
const URL_ = new URL(${JSON.stringify(EXITING_WORKER.href)});
const WARM = new URL(${JSON.stringify(TERMINATE_WORKER.href)});
const baseline = await warmUp(WARM);
const started = Date.now();
let clean = 0;
async function round(k) {
  const w = spawnWorker(URL_, { count: 30, variant: k % 2 });
  const code = await withTimeout(w.exited, 30000, 'natural exit ' + k);
  const ending = w.messages.find((m) => m.kind === 'ending');
  if (code !== 0 || !ending || ending.ran !== 20 || !ending.spinning) {
    problems.push('round ' + k + ': exit ' + code + ' ' + JSON.stringify(w.messages));
  } else {
    clean++;
  }
}
// One Worker at a time: each end unloads the addon (no other thread holds it).
for (let k = 0; k < 20; k++) await round(k);
console.log('ENDED', clean);
const { after, now } = await settleTasks(baseline, ${SLACK});
console.log('TASKS', linux ? (now <= baseline + ${SLACK} ? 'settled' : 'PILED UP') : 'settled', JSON.stringify({ baseline, after, now, ms: Date.now() - started }));
console.log('JOINED', await hundredThreads());
for (const p of problems) console.log('PROBLEM', p);
`;

test('5. 20 Workers end by themselves with live daemon threads mid-call (addon dlclose), then 100 threads: exit 0; 4 children', async () => {
  await repeat('Worker natural exit x20', 4, () => ({
    source: EXITING_SOURCE,
    timeout: 120000,
    check(r) { return JSON.stringify(checkWorkerChild(r, 'ENDED 20')); },
  }), 3);
});

test.run();
