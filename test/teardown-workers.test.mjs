// Teardown of worker_threads Workers that hold live threads, REPEATED in child processes: 50
// terminate()s at every moment of the threads' lives (blocked, running, settling, tight start and
// join loops, pending timed joins, booting), and Workers that end by themselves with daemon
// threads mid-call, which unloads (dlclose) the addon under them. Every child ends with exit code
// 0, no signal, no crash text, its OS threads back near the baseline (orphaned native threads
// have exited), and its own main thread still starting and joining 100 threads.
// TEARDOWN_TIMINGS=1 prints, per test, the runs, failures and child wall times.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  assertExit as assertExitCode, describe, importHelpers, lines, repeatChildren as repeat,
} from './helpers/child.mjs';

const TERMINATE_WORKER = new URL('./fixtures/teardown-worker.mjs', import.meta.url);
const EXITING_WORKER = new URL('./fixtures/teardown-worker-exit.mjs', import.meta.url);

// assertExit, and no marker the child or a fixture prints when something happened that must not.
function assertExit(r, code) {
  assertExitCode(r, code);
  assert.not.match(r.stdout, /SHOULD NOT PRINT|WORKER ERROR|BUG/, `unexpected output\n${describe(r)}`);
}

// Shared by the Worker children of both tests. A Worker started from a `-e` script inherits
// --input-type, which Workers refuse: hence execArgv: []. Hang guards inside the child (WAIT_S)
// are generous (each awaited step takes well under a second unloaded): under npm run test:loaded
// with other suites running, a Worker's terminate() was seen to take over 10 s.
const WORKER_PRELUDE = importHelpers('wait.mjs', ['sleep', 'withTimeout']) +
  importHelpers('workers.mjs', ['spawnWorker']) + importHelpers('os-threads.mjs', ['linux', 'tasks']) + `
import { promises as fsp } from 'node:fs';
const WAIT_S = 30;
const problems = [];
const startWorker = (url, workerData) => spawnWorker(url, { workerData, execArgv: [] });
// What must not happen in a Worker: a 'bug' or 'woke' message (a long timer fired), an 'error' event.
function collectProblems(w, label) {
  for (const m of w.messages) if (m.kind === 'bug' || m.kind === 'woke') problems.push(label + ': ' + JSON.stringify(m));
  for (const e of w.errors) problems.push(label + ': error event: ' + (e && e.stack));
}
// Baseline of OS threads once Node's own lazily started threads exist: a Worker that loaded the
// addon has come and gone, and the libuv threadpool has run.
async function warmUp(url) {
  const w = startWorker(url, { mode: 'warm' });
  const warm = await w.next('warm', WAIT_S, 'warm-up');
  if (warm.joined !== true) problems.push('warm-up join: ' + warm.joined);
  await withTimeout(w.exited, WAIT_S, 'warm-up exit');
  collectProblems(w, 'warm');
  await fsp.readFile(url);
  await sleep(50);
  return tasks().length;
}
// OS threads must come back near the baseline: orphaned native threads have exited. Waits up to
// 20 s for that (a hang guard: piled-up threads stay forever), done as soon as they are back.
async function settleTasks(baseline, slack) {
  const after = tasks().length;
  const deadline = Date.now() + 20000;
  let now = after;
  while (now > baseline + slack && Date.now() < deadline) { await sleep(20); now = tasks().length; }
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
  const joined = await withTimeout(Promise.all(threads.map((t) => t.join(10))), WAIT_S, 'join 100');
  return joined.filter(Boolean).length + ' ' + ran + ' ' + new Set(threads.map((t) => t.nativeId)).size +
    ' ' + threads.some((t) => t.isAlive());
}
`;

// --- Workers terminated 50 times while they hold live threads -----------------------------------

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
  const w = startWorker(URL_, { mode: mode === 'boot' ? 'running' : mode, count, probe });
  const jitter = (k * 7 + SEED) % 12;
  try {
    if (mode === 'boot') {
      await sleep(jitter * 3);
    } else {
      const ready = await w.next('ready', WAIT_S, mode + ' ready');
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
  const code = await withTimeout(w.worker.terminate(), WAIT_S, mode + ' terminate()');
  const exitCode = await withTimeout(w.exited, WAIT_S, mode + ' exit event');
  collectProblems(w, mode);
  if (typeof code !== 'number' || code !== exitCode) problems.push(mode + ': terminate() gave ' + code + ', exit ' + exitCode);
  // Diagnostics: where the terminate landed (ends delivered of count; phase of the tight loop).
  const where = new Int32Array(probe);
  if (mode.startsWith('settling')) landed[mode].push(where[0] + '/' + count);
  // join() answers a Promise even while the Worker is being terminated (see the fixture).
  if (mode === 'joins' && where[0] !== 0) problems.push('joins: ' + where[0] + ' join() answers were not Promises');
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
  assert.not.ok(out.some((l) => l.startsWith('PROBLEM')), describe(r));
  assert.is(out[0], doneLine, describe(r));
  assert.ok(out[1].startsWith('TASKS settled '), `OS threads did not come back to the baseline\n${describe(r)}`);
  assert.is(out[2], 'JOINED 100 100 100 false', describe(r));
  assert.is(out.length, 3, describe(r));
  return JSON.parse(out[1].slice('TASKS settled '.length));
}

test('50 Worker terminates (blocked, running, settling, tight start/join, pending timed joins, booting), then 100 threads: exit 0, OS threads back to baseline; 6 children', async () => {
  await repeat('Worker terminate x50', 6, (i) => ({
    source: terminateSource(i * 5, 1 + (i % 2)),
    timeout: 150000,
    check(r) { return JSON.stringify(checkWorkerChild(r, 'TERMINATED 50')); },
  }), 2);
});

// --- Workers that end by themselves with daemon threads alive (dlclose) --------------------------

const EXITING_SOURCE = WORKER_PRELUDE + `
const URL_ = new URL(${JSON.stringify(EXITING_WORKER.href)});
const WARM = new URL(${JSON.stringify(TERMINATE_WORKER.href)});
const baseline = await warmUp(WARM);
const started = Date.now();
let clean = 0;
async function round(k) {
  const w = startWorker(URL_, { count: 30, variant: k % 2 });
  const code = await withTimeout(w.exited, WAIT_S, 'natural exit ' + k);
  collectProblems(w, 'round ' + k);
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

test('20 Workers end by themselves with live daemon threads mid-call (addon dlclose), then 100 threads: exit 0; 4 children', async () => {
  await repeat('Worker natural exit x20', 4, () => ({
    source: EXITING_SOURCE,
    timeout: 120000,
    check(r) { return JSON.stringify(checkWorkerChild(r, 'ENDED 20')); },
  }), 3);
});

test.run();
