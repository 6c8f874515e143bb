// Tracing (docs/api.md#tracing): the background-thread:start and background-thread:run
// TracingChannels, seen by a real subscriber (fixtures/tracing/record.mjs) in this process, in
// module targets' isolates and in a real worker process: each event once per thread, in order,
// with the thread's fields; errors; the carrier a start subscriber writes reaching the run's
// store on the creator's loop, in an isolate and in a remote job (and the job's isolate); a
// malformed carrier, from a subscriber or forged into a sealed job, dropped without harm; and
// nothing published while nobody subscribes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomUUID } from 'node:crypto';
import { channel } from 'node:diagnostics_channel';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BackgroundThread, configureRemote, currentThread, setMaxBackgroundThreads,
} from 'background-thread';
import { events, sequence, stop, store } from './fixtures/tracing/record.mjs';
import { withExcepthook } from './helpers/excepthook.mjs';
import {
  JOBS_ROOT, SECRET, freshQueue, inspectQueue, markers, startWorker, stopWorkers, testRedis,
} from './helpers/remote.mjs';
import { until, withTimeout } from './helpers/wait.mjs';

// What the isolates (they inherit this env) and the worker process record.
const LOG = join(markers(), 'trace.jsonl');
process.env.BT_TRACE_LOG = LOG;
const logged = () => (existsSync(LOG) ? readFileSync(LOG, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []);
const fromElsewhere = (name) =>
  logged().filter((e) => e.name === name && (e.pid !== process.pid || e.threadId !== 0));

const TRACED = fileURLToPath(new URL('./fixtures/module-targets/traced.mjs', import.meta.url));
const REMOTE_TRACED = new URL('./fixtures/remote/jobs/traced.mjs', import.meta.url).href;
const unique = (what) => `${what}-${randomUUID().slice(0, 8)}`;
const THE_RUN = ['run:start', 'run:end', 'run:asyncStart', 'run:asyncEnd'];
const A_RUN_THAT_THREW = ['run:start', 'run:end', 'run:error', 'run:asyncStart', 'run:asyncEnd'];

const redis = await testRedis();
const queue = freshQueue();
let worker;

test.before(async () => {
  if (redis === null) return;
  worker = await startWorker(redis.socket, queue, {
    env: { BT_TRACE_LOG: LOG, NODE_OPTIONS: `--import ${new URL('./fixtures/tracing/record.mjs', import.meta.url).href}` },
  });
  configureRemote({ url: redis.socket, secret: SECRET, root: JOBS_ROOT, queue, pollInterval: 1 });
});

test.after(async () => {
  stop();
  delete process.env.BT_TRACE_LOG;
  if (worker) await stopWorkers(worker);
  await redis?.stop();
});

test('a function target: each event once, in order, one context per channel, before join resolves', async () => {
  const name = unique('fn');
  let inside;
  const t = new BackgroundThread({ name, target: async (x) => {
    const before = store.getStore();
    await new Promise((resolve) => setImmediate(resolve));
    inside = { before, after: store.getStore(), current: currentThread() };
    return x * 2;
  }, args: [21] });
  t.start();
  const seenAtStart = sequence(name);
  assert.equal(seenAtStart, ['start:start', 'start:end'], 'start() publishes start and end, nothing else yet');
  assert.ok(await t.join());
  const atJoin = sequence(name);
  assert.equal(atJoin, ['start:start', 'start:end', ...THE_RUN, 'start:asyncStart', 'start:asyncEnd'],
    'the run inside the thread\'s span; the thread\'s end before join() resolves');
  const mine = events.filter((e) => e.name === name);
  const [startCtx] = mine.filter((e) => e.channel === 'start').map((e) => e.ctx);
  const [runCtx] = mine.filter((e) => e.channel === 'run').map((e) => e.ctx);
  assert.ok(mine.every((e) => e.ctx === (e.channel === 'start' ? startCtx : runCtx)), 'one context per thread and channel');
  for (const ctx of [startCtx, runCtx]) {
    assert.is(ctx.thread, t);
    assert.is(ctx.kind, 'function');
    assert.is(ctx.ident, t.ident);
    assert.is(ctx.name, name);
    assert.is(ctx.daemon, false);
    assert.is(ctx.jobId, null);
    assert.is(ctx.result, 42);
    assert.not.ok('error' in ctx);
  }
  assert.is(mine[0].ident, null, 'at start, before start() has given the ident');
  assert.is(mine[1].ident, t.ident, 'at end');
  assert.equal(startCtx.carrier, { traceparent: `tp-${name}` });
  assert.is(runCtx.carrier, startCtx.carrier, 'on the creator\'s loop the run has the start\'s carrier');
  assert.equal(inside.before, { traceparent: `tp-${name}` }, 'the run\'s store inside the target');
  assert.equal(inside.after, inside.before, 'and across its awaits');
  assert.is(inside.current, t, 'currentThread() is still the thread');
});

test('a daemon function target that throws, and one that rejects: error once, the thread\'s end with it', async () => {
  const calls = await withExcepthook(async () => {
    const sync = new BackgroundThread({ name: unique('throws'), daemon: true, target: () => { throw new RangeError('sync'); } });
    const later = new BackgroundThread({ name: unique('rejects'), target: async () => { await null; throw new TypeError('async'); } });
    for (const t of [sync, later]) {
      t.start();
      await t.join();
      assert.equal(sequence(t.name), ['start:start', 'start:end', ...A_RUN_THAT_THREW, 'start:error', 'start:asyncStart', 'start:asyncEnd']);
      const mine = events.filter((e) => e.name === t.name);
      for (const e of mine.filter((x) => ['error', 'asyncStart', 'asyncEnd'].includes(x.event))) {
        assert.is(e.ctx.error, t.exception, `${e.channel}:${e.event} has the thread's exception`);
      }
      assert.not.ok(mine.find((e) => e.channel === 'start' && e.event === 'end').hasError, 'start() itself did not throw');
    }
    assert.is(events.find((e) => e.name === sync.name).daemon, true);
  });
  assert.is(calls.length, 2, 'the excepthook still sees both');
});

test('start() that throws: start, error, end, and no end of a thread; a later start() is traced again', async () => {
  const name = unique('capped');
  const t = new BackgroundThread({ name, target: () => 'ok' });
  setMaxBackgroundThreads(0);
  try {
    assert.throws(() => t.start(), (error) => error.code === 'ERR_THREAD_LIMIT_REACHED');
  } finally {
    setMaxBackgroundThreads(Infinity);
  }
  assert.equal(sequence(name), ['start:start', 'start:error', 'start:end']);
  const failed = events.find((e) => e.name === name && e.event === 'error');
  assert.is(failed.ctx.error.code, 'ERR_THREAD_LIMIT_REACHED');
  assert.is(failed.ctx.ident, null, 'never started');
  t.start();
  await t.join();
  assert.equal(sequence(name).slice(3), ['start:start', 'start:end', ...THE_RUN, 'start:asyncStart', 'start:asyncEnd']);
  const before = sequence(name).length;
  assert.throws(() => t.start(), (error) => error.code === 'ERR_THREAD_ALREADY_STARTED');
  assert.is(sequence(name).length, before, 'a second start() of a started thread publishes nothing');
});

test('a module target: its isolate publishes the run with the creator\'s carrier, its export inside the run\'s store', async () => {
  const name = unique('module');
  const t = new BackgroundThread({ name, target: { module: TRACED, export: 'seen' } });
  t.start();
  assert.ok(await withTimeout(t.join(), 60, 'join'));
  assert.is(t.exception, undefined);
  assert.equal(t.result, { before: { traceparent: `tp-${name}` }, after: { traceparent: `tp-${name}` } },
    'the export ran inside the store bound to the travelled carrier');
  assert.equal(sequence(name), ['start:start', 'start:end', 'start:asyncStart', 'start:asyncEnd'], 'here: the thread\'s span only');
  const start = events.find((e) => e.name === name && e.event === 'start');
  assert.is(start.kind, 'module');
  assert.is(start.ctx.thread, t);
  const there = fromElsewhere(name);
  assert.equal(there.map((e) => `${e.channel}:${e.event}`), THE_RUN, 'the isolate: its run, once');
  for (const e of there) {
    assert.is(e.kind, 'module');
    assert.is(e.ident, t.ident);
    assert.is(e.name, name);
    assert.is(e.daemon, false);
    assert.is(e.jobId, null);
    assert.ok(e.hasThread);
    assert.equal(e.carrier, { traceparent: `tp-${name}` });
  }
  assert.equal(there.at(-1).result, t.result);
});

test('a module target that rejects: the isolate publishes error once; the creator ends the span with it', async () => {
  const name = unique('module-fails');
  const calls = await withExcepthook(async () => {
    const t = new BackgroundThread({ name, target: { module: TRACED, export: 'fails' } });
    t.start();
    await withTimeout(t.join(), 60, 'join');
    assert.is(t.exception.code, 'E_TRACED');
    const ended = events.find((e) => e.name === name && e.event === 'asyncEnd');
    assert.is(ended.ctx.error, t.exception);
  });
  assert.is(calls.length, 1);
  const there = fromElsewhere(name);
  assert.equal(there.map((e) => `${e.channel}:${e.event}`), A_RUN_THAT_THREW);
  assert.equal(there.find((e) => e.event === 'error').error, { message: 'traced failure', code: 'E_TRACED' });
});

test('a subscriber\'s malformed carrier is not sent: the thread runs, the isolate sees an empty one, one warning', async () => {
  const warnings = [];
  const onWarning = (warning) => { warnings.push(warning); };
  process.on('warning', onWarning);
  const bad = [
    (ctx) => { ctx.carrier.traceparent = 42; },
    (ctx) => { ctx.carrier = 'not an object'; },
    (ctx) => { for (let i = 0; i < 1000; i++) ctx.carrier[`k${i}`] = 'v'; },
    (ctx) => { ctx.carrier.big = 'x'.repeat(100_000); },
    (ctx) => { ctx.carrier = new Proxy({}, { ownKeys() { throw new Error('trap'); } }); },
    (ctx) => { ctx.carrier[Symbol('s')] = 'v'; },
  ];
  try {
    for (const write of bad) {
      globalThis.btTraceCarrier = write;
      const t = new BackgroundThread({ target: { module: TRACED, export: 'seen' } });
      t.start();
      await withTimeout(t.join(), 60, 'join');
      assert.is(t.exception, undefined, 'the thread is not harmed');
      assert.equal(t.result.before, {}, 'no carrier travelled');
    }
    await until(() => warnings.length > 0, 10, 'the warning');
  } finally {
    delete globalThis.btTraceCarrier;
    process.off('warning', onWarning);
  }
  assert.is(warnings.length, 1, 'warned once');
  assert.is(warnings[0].code, 'BACKGROUND_THREAD_TRACE_CARRIER');
});

const it = redis === null ? test.skip : test;

it('a remote thread: the worker publishes the job\'s run with the carrier, the job id; the thread\'s span ends here', async () => {
  const name = unique('remote');
  const t = new BackgroundThread({ name, target: { module: REMOTE_TRACED, export: 'seen', remote: true }, args: [7] });
  t.start();
  assert.ok(await withTimeout(t.join(), 60, 'join'));
  assert.is(t.exception, undefined);
  const { jobId } = t.remote;
  assert.equal(sequence(name), ['start:start', 'start:end', 'start:asyncStart', 'start:asyncEnd']);
  const here = events.filter((e) => e.name === name);
  assert.is(here[0].kind, 'remote');
  assert.is(here[0].jobId, null, 'at start, before the job id is known');
  assert.ok(here.slice(1).every((e) => e.jobId === jobId), 'the job id from end on');
  assert.equal(here.at(-1).ctx.result, t.result);
  // The worker's run, and then (inside it) the worker's own module thread and its isolate's run.
  await until(() => fromElsewhere(name).filter((e) => e.kind === 'remote').length === 4, 30, 'the worker\'s run');
  const there = fromElsewhere(name);
  const jobRun = there.filter((e) => e.kind === 'remote');
  assert.equal(jobRun.map((e) => `${e.channel}:${e.event}`), THE_RUN, 'the worker: the job\'s run, once');
  for (const e of jobRun) {
    assert.is(e.pid, worker.child.pid);
    assert.is(e.jobId, jobId);
    assert.is(e.name, name);
    assert.equal(e.carrier, { traceparent: `tp-${name}` }, 'the creator\'s carrier, sealed in the job');
  }
  assert.is(jobRun[0].ident, null, 'the worker\'s thread has no ident before it starts');
  assert.type(jobRun[1].ident, 'number');
  assert.equal(jobRun.at(-1).result, t.result);
  const workerStart = there.find((e) => e.channel === 'start' && e.event === 'start' && e.pid === worker.child.pid);
  assert.is(workerStart.kind, 'module', 'the worker runs the job as a module thread of its own');
  assert.equal(workerStart.store, { traceparent: `tp-${name}` }, 'its start inside the job\'s run store');
  assert.equal(t.result, { value: 7, carrier: { traceparent: `tp-${name}` } }, 'the job\'s isolate got the trace on');
});

it('a remote job that throws: error once in the worker, and on the creator\'s span', async () => {
  const name = unique('remote-fails');
  const calls = await withExcepthook(async () => {
    const t = new BackgroundThread({ name, target: { module: REMOTE_TRACED, export: 'fails', remote: true } });
    t.start();
    await withTimeout(t.join(), 60, 'join');
    assert.is(t.exception.code, 'E_REMOTE_TRACED');
    assert.is(events.find((e) => e.name === name && e.event === 'asyncEnd').ctx.error, t.exception);
  });
  assert.is(calls.length, 1);
  await until(() => fromElsewhere(name).some((e) => e.kind === 'remote' && e.event === 'asyncEnd'), 30, 'the worker\'s run');
  const jobRun = fromElsewhere(name).filter((e) => e.kind === 'remote');
  assert.equal(jobRun.map((e) => `${e.channel}:${e.event}`), A_RUN_THAT_THREW);
  assert.is(jobRun.find((e) => e.event === 'error').error.code, 'E_REMOTE_TRACED');
});

it('a malformed carrier forged into a sealed job is dropped: the job runs with none, the worker warns once', async () => {
  const { sealJob, openResult } = await import('../dist/remote/protocol.js');
  const q = await inspectQueue(redis.socket, queue);
  const forged = [42, 'carrier', [['k', 'v']], { n: 1 }, Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, 'v']))];
  try {
    const jobs = [];
    for (const [i, carrier] of forged.entries()) {
      const jobId = unique('forged');
      const data = sealJob(SECRET, { prefix: 'bull', queue, jobId },
        { module: 'jobs/traced.mjs', export: 'seen', name: `forged-${jobId}`, fresh: false }, [i], null, 5, carrier);
      jobs.push(await q.add(`forged-${jobId}`, data, { jobId }));
    }
    await until(async () => (await Promise.all(jobs.map((j) => q.getJobState(j.id)))).every((s) => s === 'completed'), 60, 'the forged jobs to complete');
    for (const [i, job] of jobs.entries()) {
      const { returnvalue } = await q.getJob(job.id);
      assert.is(openResult(SECRET, { prefix: 'bull', queue, jobId: job.id }, returnvalue).value, i, 'the job ran');
      await until(() => fromElsewhere(job.name).some((e) => e.kind === 'remote' && e.event === 'asyncEnd'), 30, 'the worker\'s run');
      assert.ok(fromElsewhere(job.name).filter((e) => e.kind === 'remote').every((e) => Object.keys(e.carrier).length === 0),
        'its run had no carrier (its own module thread\'s is the worker\'s subscriber\'s, as any thread\'s)');
    }
  } finally {
    await q.close();
  }
  const warned = worker.stderr().split('BACKGROUND_THREAD_TRACE_CARRIER').length - 1;
  assert.is(warned, 1, `one warning in the worker:\n${worker.stderr()}`);
});

test('nobody subscribed: nothing published for any kind, and no carrier', async () => {
  stop();
  const names = ['start', 'end', 'asyncStart', 'asyncEnd', 'error'].flatMap((event) =>
    ['start', 'run'].map((ch) => `tracing:background-thread:${ch}:${event}`));
  const used = [];
  const restore = names.map((name) => {
    const ch = channel(name);
    const { publish, runStores } = ch;
    ch.publish = function (...args) { used.push(name); return publish.apply(this, args); };
    ch.runStores = function (...args) { used.push(name); return runStores.apply(this, args); };
    return () => { ch.publish = publish; ch.runStores = runStores; };
  });
  try {
    assert.ok(names.every((name) => !channel(name).hasSubscribers));
    const count = events.length;
    const threads = [
      new BackgroundThread({ target: () => store.getStore() ?? null }),
      new BackgroundThread({ target: { module: TRACED, export: 'seen' } }),
    ];
    if (redis !== null) threads.push(new BackgroundThread({ target: { module: REMOTE_TRACED, export: 'seen', remote: true } }));
    for (const t of threads) {
      t.start();
      await withTimeout(t.join(), 60, 'join');
      assert.is(t.exception, undefined);
    }
    assert.equal(used, [], 'no channel of the package was published to here');
    assert.is(events.length, count);
    assert.is(threads[0].result, null);
    assert.equal(threads[1].result, { before: {}, after: {} }, 'the isolate subscribes, but no carrier came');
    if (redis !== null) {
      const { name } = threads[2];
      await until(() => fromElsewhere(name).some((e) => e.kind === 'remote' && e.event === 'asyncEnd'), 30, 'the worker\'s run');
      assert.ok(fromElsewhere(name).filter((e) => e.kind === 'remote').every((e) => Object.keys(e.carrier).length === 0),
        'nor to the remote job (whose worker subscribes)');
    }
  } finally {
    for (const undo of restore) undo();
  }
});

test.run();
