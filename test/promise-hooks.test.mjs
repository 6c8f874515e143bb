// No tax on the rest of the app: the daemon hook (src/thread/context.ts) never makes Node install a
// V8 promise hook where Node can avoid it (`trackPromises: false`, Node 24 and later), and daemon
// threads keep their semantics there. Observable without timing: with a promise hook installed,
// the code after an `await` runs with an async id of its own; without one, executionAsyncId() is
// 0 there. That Node is the running one when it is 24 or later (npm run test:node-versions runs
// the suite on 24 and 26), else Node 24 from the npm registry (scripts/node-binaries.mjs; cached
// once fetched).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ensureNode } from '../scripts/node-binaries.mjs';
import { assertExit, assertPrompt, runChild } from './helpers/child.mjs';

const PROBE = `
import { createHook, executionAsyncId } from 'node:async_hooks';
const afterAwait = async () => { await null; return executionAsyncId(); };
async function runThread(daemon) {
  const { BackgroundThread } = await import('background-thread');
  const t = new BackgroundThread({ daemon, target: async () => { await null; } });
  t.start();
  if (!(await t.join(30))) throw new Error('join timed out');
}
`;

const node24OrLater = Number(process.versions.node.split('.')[0]) >= 24 ? process.execPath : ensureNode(24);
const lastLine = (r) => JSON.parse(r.stdout.trim().split('\n').at(-1));

test('Node 24 and later: after a thread and a daemon thread ran, no promise hook is installed', async () => {
  const r = await runChild(PROBE + `
    const before = await afterAwait();
    await runThread(false);
    const thread = await afterAwait();
    await runThread(true);
    const daemon = await afterAwait();
    // The probe itself: an async hook that tracks promises is seen.
    createHook({ init() {} }).enable();
    const tracked = await afterAwait();
    console.log(JSON.stringify({ before, thread, daemon, tracked: tracked !== 0 }));
  `, { node: node24OrLater });
  assertExit(r, 0);
  assert.equal(lastLine(r), { before: 0, thread: 0, daemon: 0, tracked: true });
});

test('Node 24 and later: what a daemon thread opens, after an await or in a thread it starts, never holds the process open', async () => {
  const r = await runChild(PROBE + `
    const { BackgroundThread, currentThread } = await import('background-thread');
    new BackgroundThread({ daemon: true, target: async () => {
      setInterval(() => {}, 1000);
      await Promise.resolve();
      setTimeout(() => console.log('too late'), 120000);
      new BackgroundThread({ target: async () => {
        await null;
        setInterval(() => {}, 1000);
        console.log('inner daemon', currentThread().daemon);
      } }).start();
      await new Promise((resolve) => setTimeout(resolve, 120000));
    } }).start();
    // Something else holds the loop for a moment: the daemon's timers must not outlive it.
    setTimeout(() => console.log('main done'), 200);
  `, { node: node24OrLater, timeout: 90000 });
  assertExit(r, 0, ['inner daemon true', 'main done']);
  assertPrompt(r);
});

test('any Node: a module-target thread, daemon or not, installs no promise hook in its creator', async () => {
  const r = await runChild(PROBE + `
    const { BackgroundThread } = await import('background-thread');
    const module = new URL('./test/fixtures/module-targets/sleep.mjs', 'file://' + process.cwd() + '/');
    for (const daemon of [false, true]) {
      const t = new BackgroundThread({ daemon, target: { module }, args: [1] });
      t.start();
      if (!(await t.join(60))) throw new Error('join timed out');
    }
    console.log(JSON.stringify({ afterAwait: await afterAwait() }));
  `);
  assertExit(r, 0);
  assert.equal(lastLine(r), { afterAwait: 0 });
});

test.run();
