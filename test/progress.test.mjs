// Progress (currentThread().reportProgress(value), thread.progress, 'progress' events) of function
// and module targets: every value, in order, before join() resolves; bad values refused.
// Remote threads: test/remote-cancel.test.mjs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BackgroundThread, currentThread, mainThread } from 'background-thread';
import { withTimeout } from './helpers/wait.mjs';

const FIXTURE = new URL('./fixtures/module-targets/cancel.mjs', import.meta.url).href;

async function collect(t) {
  const seen = [];
  t.on('progress', (value) => { seen.push(value); });
  t.start();
  await withTimeout(t.join(), 60, 'join');
  return seen;
}

test('function target: every report in order before join(); objects arrive as their JSON copy', async () => {
  const object = { step: 1, when: new Date(0) };
  let inListener;
  const t = new BackgroundThread({
    target: async () => {
      const me = currentThread();
      assert.is(me.reportProgress(0), true);
      me.reportProgress(object);
      object.step = 99;  // reported already: the copy is unchanged
      await null;
      me.reportProgress('almost');
      return 'done';
    },
  });
  t.on('progress', () => { inListener ??= currentThread(); });
  const seen = await collect(t);
  assert.equal(seen, [0, { step: 1, when: '1970-01-01T00:00:00.000Z' }, 'almost']);
  assert.is(t.progress, 'almost');
  assert.is(t.result, 'done');
  assert.is(inListener, mainThread(), 'listeners run outside the thread\'s context');
});

test('module target: 2,000 reports arrive, in order, all before join() resolves', async () => {
  const t = new BackgroundThread({ target: { module: FIXTURE, export: 'reports' }, args: [2000] });
  const seen = await collect(t);
  assert.is(seen.length, 2001);
  assert.ok(seen.slice(0, 2000).every((value, i) => value === i), 'in order');
  assert.equal(seen[2000], { done: true, n: 2000 });
  assert.equal(t.progress, { done: true, n: 2000 });
  assert.is(t.result, 2000);
});

test('bad values: typed errors, in the thread and in an isolate; after the end reportProgress is false', async () => {
  const t = new BackgroundThread({ target: () => {} });
  assert.is(t.progress, undefined);
  assert.is(t.reportProgress(1), false, 'not started');
  const errors = [];
  const cyclic = {};
  cyclic.self = cyclic;
  for (const value of [NaN, () => {}, cyclic, 'x'.repeat(70000), Symbol('s'), 10n]) {
    try { t.reportProgress(value); } catch (error) { errors.push([error.name, error.code]); }
  }
  assert.equal(errors, [['RangeError', 'ERR_OUT_OF_RANGE'], ['TypeError', 'ERR_INVALID_ARG_TYPE'],
    ['TypeError', 'ERR_INVALID_ARG_VALUE'], ['RangeError', 'ERR_OUT_OF_RANGE'],
    ['TypeError', 'ERR_INVALID_ARG_TYPE'], ['TypeError', 'ERR_INVALID_ARG_TYPE']]);
  t.start();
  await t.join();
  assert.is(t.reportProgress(1), false, 'ended');
  assert.is(t.progress, undefined);
  const m = new BackgroundThread({ target: { module: FIXTURE, export: 'badProgress' } });
  m.start();
  await withTimeout(m.join(), 60, 'join');
  assert.equal(m.result, [['RangeError', 'ERR_OUT_OF_RANGE'], ['TypeError', 'ERR_INVALID_ARG_TYPE'],
    ['TypeError', 'ERR_INVALID_ARG_VALUE'], ['RangeError', 'ERR_OUT_OF_RANGE']]);
  assert.is(m.progress, undefined, 'nothing was taken');
  assert.is(mainThread().reportProgress(5), false, 'the main thread has nobody to report to');
  assert.is(mainThread().signal.aborted, false);
});

test.run();
