// The package inside worker_threads Workers: threads start, run and join in a Worker, which then
// waits for its non-daemon threads (not its daemon ones) and ends by itself; several Workers use
// the package at once with process-wide unique idents; terminating a Worker that holds live
// threads, at any moment, neither crashes nor hangs, and this process goes on using the package.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BackgroundThread, currentThread, mainThread } from 'background-thread';
import { PROMPT_MS, assertExit, describe, importHelpers, runChild } from './helpers/child.mjs';
import { sleep, withTimeout } from './helpers/wait.mjs';
import { spawnWorker as spawn } from './helpers/workers.mjs';

const BASIC = new URL('./fixtures/worker-basic.mjs', import.meta.url);
const HOLDER = new URL('./fixtures/worker-holder.mjs', import.meta.url);
// Hang guards (a Worker boots, answers and ends in well under a second), generous: under load a
// Worker's terminate() was seen to take over 10 s.
const WAIT_S = 30;

/** Starts a Worker, its output not piped into this process. */
const spawnWorker = (url, workerData) => spawn(url, { workerData, stdout: false, stderr: false });

/** The parent (this process) still starts and joins a BackgroundThread. */
async function assertParentStillWorks(label) {
  let ranIn = null;
  const t = new BackgroundThread({ name: `parent-after-${label}`, target: async () => {
    await sleep(5);
    ranIn = currentThread().name;
  } });
  t.start();
  assert.ok(t.isAlive(), `${label}: parent thread alive after start()`);
  assert.is(await withTimeout(t.join(10), WAIT_S, `${label}: parent join`), true, `${label}: parent join`);
  assert.is(ranIn, `parent-after-${label}`, `${label}: parent target ran as its thread`);
  assert.not.ok(t.isAlive(), `${label}: parent thread ended`);
}

test('in a Worker, threads start, run and join; the Worker then exits by itself with code 0', async () => {
  const started = performance.now();
  const record = spawnWorker(BASIC);
  const code = await withTimeout(record.exited, WAIT_S + 15, 'worker exit');
  const ms = performance.now() - started;
  assert.equal(record.errors, [], 'no error event');
  assert.is(code, 0, 'exit code');

  const report = record.messages.find((m) => m.kind === 'report');
  assert.ok(report, `a report came back: ${JSON.stringify(record.messages)}`);
  assert.is(report.mainName, 'MainThread');
  assert.is.not(report.mainNativeId, mainThread().nativeId, "the Worker's main thread is not ours");
  assert.equal(report.aliveAfterStart, [true, true, true, true, true]);
  assert.is(report.countWhileAlive, 6, 'enumerate(): the Worker main thread + 5');
  assert.equal(report.joined, [true, true, true, true, true]);
  assert.equal(report.aliveAfterJoin, [false, false, false, false, false]);
  assert.is(report.countAfterJoin, 1);
  assert.equal(report.ranOn.map((r) => [r.name, r.value]),
    [['W0', 0], ['W1', 10], ['W2', 20], ['W3', 30], ['W4', 40]], 'each target ran with its args and kwargs');
  assert.equal(report.ranOn.map((r) => r.ident), report.idents, 'currentThread().ident inside the target');
  assert.is(new Set(report.idents).size, 5);
  assert.is(new Set(report.nativeIds).size, 5, 'five distinct OS threads');
  for (const id of report.nativeIds) {
    assert.ok(Number.isInteger(id) && id > 0 && id !== process.pid && id !== report.mainNativeId, `native id ${id}`);
  }
  assert.equal(report.fromStartNew, [1, 2, report.startNewIdent], 'startNewBackgroundThread in a Worker');

  // The un-joined non-daemon thread was waited for; the daemon one was not.
  const kinds = record.messages.map((m) => m.kind);
  assert.ok(kinds.includes('straggler'), `the Worker waited for its non-daemon thread: ${kinds}`);
  assert.ok(kinds.includes('sleeper-ran'), `the daemon target ran: ${kinds}`);
  assert.not.ok(kinds.includes('sleeper-woke'), 'the Worker did not wait for its daemon thread');
  // A hang guard, not a speed check: waiting for the daemon would take its 60 s timer.
  assert.ok(ms < PROMPT_MS, `the Worker exited in ${Math.round(ms)} ms, not after the daemon's 60 s timer`);

  await assertParentStillWorks('basic');
});

test('several Workers use the package at once; idents are unique across the process', async () => {
  const workers = [0, 1, 2].map(() => spawnWorker(BASIC));
  const mine = new BackgroundThread({ target: () => sleep(20) });
  mine.start();
  const codes = await withTimeout(Promise.all(workers.map((w) => w.exited)), WAIT_S, 'workers exit');
  assert.equal(codes, [0, 0, 0]);
  assert.is(await mine.join(10), true);
  const idents = [mine.ident];
  for (const w of workers) {
    const report = w.messages.find((m) => m.kind === 'report');
    assert.ok(report, 'each Worker reported');
    assert.equal(report.joined, [true, true, true, true, true]);
    idents.push(...report.idents, report.startNewIdent);
  }
  assert.is(new Set(idents).size, idents.length, `unique idents: ${idents}`);
});

// When, in the Worker's life, terminate() comes. These moments are ones where the Worker's JS
// is not inside a call into the addon (not yet running, blocked right after start(), idle with
// targets awaiting timers): a crash here would take this test runner down. Moments inside such
// calls (terminate() at an arbitrary time while the Worker starts and joins threads) are tested
// in child processes below, so that a crash there is a failed test.
const ROUNDS = [
  { mode: 'immediate', wait: 'nothing' },
  { mode: 'started', wait: 'started' },
  { mode: 'ran', wait: 'ran' },
  { mode: 'immediate', wait: 'started' },
  { mode: 'started', wait: 'started' },
  { mode: 'ran', wait: 'ran+20ms' },
  { mode: 'immediate', wait: 'ran' },
  { mode: 'started', wait: 'started' },
  { mode: 'ran', wait: 'ran' },
  { mode: 'immediate', wait: 'nothing' },
];

const COUNT = 8;

async function terminateRound({ mode, wait }, index) {
  const label = `round ${index} (${mode}, terminate after ${wait})`;
  const record = spawnWorker(HOLDER, { mode, count: COUNT });
  const ranAll = (ms) => ms.filter((m) => m.kind === 'ran').length >= COUNT;
  if (wait === 'started') {
    await record.next('started', WAIT_S, `${label}: started`);
  } else if (wait === 'ran' || wait === 'ran+20ms') {
    await record.until(ranAll, WAIT_S, `${label}: targets ran`);
    if (wait === 'ran+20ms') await sleep(20);
  }
  if (mode === 'started') {
    // The Worker's loop is blocked right after start(): no target can have run yet.
    assert.not.ok(record.messages.some((m) => m.kind === 'ran'), `${label}: no target ran before terminate`);
    assert.is(record.messages.find((m) => m.kind === 'started').alive, COUNT, `${label}: all threads alive`);
  }
  const code = await withTimeout(record.worker.terminate(), WAIT_S, `${label}: terminate()`);
  assert.is(typeof code, 'number', `${label}: terminate() resolved with the exit code`);
  assert.is(await withTimeout(record.exited, WAIT_S, `${label}: exit event`), code, `${label}: exit event`);
  assert.equal(record.errors, [], `${label}: no error event`);
  assert.not.ok(record.messages.some((m) => m.kind === 'woke'), `${label}: no long timer fired`);
  await assertParentStillWorks(`round-${index}`);
}

test('terminate() of Workers holding live daemon and non-daemon threads, at different moments, 10 times', async () => {
  for (const [i, round] of ROUNDS.entries()) await terminateRound(round, i);
  // Orphaned native threads of the dead Workers have had time to wake up and end.
  await sleep(200);
  await assertParentStillWorks('all-rounds');
});

test('terminate() of several Workers at once, each holding live threads', async () => {
  const workers = [0, 1, 2, 3].map((i) => spawnWorker(HOLDER, { mode: i % 2 ? 'started' : 'ran', count: COUNT }));
  await Promise.all(workers.map((w, i) => (i % 2
    ? w.next('started', WAIT_S)
    : w.until((ms) => ms.filter((m) => m.kind === 'ran').length >= COUNT, WAIT_S, 'ran'))));
  const codes = await withTimeout(Promise.all(workers.map((w) => w.worker.terminate())), WAIT_S, 'terminate all');
  assert.is(codes.length, 4);
  for (const code of codes) assert.is(typeof code, 'number');
  await assertParentStillWorks('parallel');
});

// In a child process: a Worker started from a `-e` script inherits --input-type, which Workers
// refuse, hence `execArgv: []`.
const CHILD_PRELUDE = importHelpers('wait.mjs', ['sleep', 'until']) + `
import { Worker } from 'node:worker_threads';
import { BackgroundThread } from 'background-thread';
const HOLDER = new URL(${JSON.stringify(HOLDER.href)});
const BASIC = new URL(${JSON.stringify(BASIC.href)});
function holder(mode) {
  const worker = new Worker(HOLDER, { workerData: { mode, count: 8 }, execArgv: [] });
  worker.on('error', (e) => console.log('WORKER ERROR', e.message));
  const seen = [];
  worker.on('message', (m) => seen.push(m.kind));
  return { worker, seen };
}
`;


test('child process: Workers terminated with live threads, a Worker that ends with a daemon thread alive, then a natural exit: code 0, no signal', async () => {
  const r = await runChild(CHILD_PRELUDE + `
for (const [mode, wait] of [['immediate', null], ['started', 'started'], ['ran', 'ran'], ['immediate', 'started'], ['ran', 'ran']]) {
  const { worker, seen } = holder(mode);
  if (wait === 'started') await until(() => seen.includes('started'), ${WAIT_S}, 'started');
  if (wait === 'ran') await until(() => seen.filter((k) => k === 'ran').length >= 8, ${WAIT_S}, 'ran');
  const code = await worker.terminate();
  console.log('TERMINATED', mode, typeof code);
}
// A Worker that ends by itself while its daemon thread is still alive (abandoned).
const basic = new Worker(BASIC, { execArgv: [] });
basic.on('message', () => {});
console.log('BASIC EXIT', await new Promise((resolve) => basic.on('exit', resolve)));
// Orphaned native threads have had time to wake up and end; the package still works here.
await sleep(300);
const t = new BackgroundThread({ target: () => sleep(10) });
t.start();
console.log('JOINED', await t.join(10));
// A daemon thread left alive at the natural exit.
new BackgroundThread({ daemon: true, target: () => sleep(60000) }).start();
console.log('DONE');
`, { timeout: 120000 });
  assertExit(r, 0);
  assert.equal(r.stdout.split('\n').filter(Boolean), [
    'TERMINATED immediate number',
    'TERMINATED started number',
    'TERMINATED ran number',
    'TERMINATED immediate number',
    'TERMINATED ran number',
    'BASIC EXIT 0',
    'JOINED true',
    'DONE',
  ], describe(r));
});

test('child process: terminate() at arbitrary moments while the Worker starts and joins threads (16 rounds): code 0, no signal', async () => {
  // 'churn' starts and joins threads in a loop; 'ran' is caught at 0-45 ms, i.e. while it loads
  // the addon, starts its threads or calls join(). No moment may crash the process.
  const r = await runChild(CHILD_PRELUDE + `
const rounds = [['churn', 'churning'], ['ran', 0], ['churn', 5], ['ran', 15], ['churn', 'churning'],
  ['ran', 25], ['churn', 20], ['ran', 35], ['churn', 'churning'], ['ran', 45], ['churn', 'churning'],
  ['ran', 30], ['churn', 30], ['ran', 40], ['churn', 'churning'], ['ran', 20]];
for (const [mode, wait] of rounds) {
  const { worker, seen } = holder(mode);
  if (wait === 'churning') await until(() => seen.includes('churning'), ${WAIT_S}, 'churning');
  else await sleep(wait);
  const code = await worker.terminate();
  console.log('TERMINATED', mode, typeof code);
}
await sleep(300);
const t = new BackgroundThread({ target: () => sleep(10) });
t.start();
console.log('JOINED', await t.join(10));
`, { timeout: 120000 });
  assertExit(r, 0);
  assert.equal(r.stdout.split('\n').filter(Boolean), [
    ...Array.from({ length: 8 }, () => ['TERMINATED churn number', 'TERMINATED ran number']).flat(),
    'JOINED true',
  ], describe(r));
});

test.run();
