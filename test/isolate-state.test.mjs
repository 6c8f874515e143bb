// What a warm isolate shares with its process, and what it keeps of a thread that ended: it sees
// and changes this process's environment (as a Python thread shares os.environ); its modules'
// 'exit' listeners run when it ends (the pool ends idle isolates at the loop's end), and the
// package takes none of the 'exit' listener budget (the creator's or the isolate's); an idle
// isolate keeps nothing of its last thread's arguments, nor does the creator once it has ended.
// Fixture: test/fixtures/module-targets/state.mjs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { IMPORT, QUICK, assertExit, runChild } from './helpers/child.mjs';
import { emptyPool, ended, fixture, poolTarget } from './helpers/isolates.mjs';

const target = (exportName) => poolTarget(exportName, 'state.mjs');
const STATE = JSON.stringify(fixture('state.mjs'));
const CHILD = `${IMPORT}
const STATE = ${STATE};
const run = async (exportName, args = [], options = {}) => {
  const t = new BackgroundThread({ target: { module: STATE, export: exportName }, args, ...options });
  t.start();
  await t.join();
  if (t.exception !== undefined) throw t.exception;
  return t;
};
`;

// --- item 3: process.env -------------------------------------------------------------------------

test('a warm isolate sees process.env as it is now, and what a module sets there is the process\'s', async () => {
  await emptyPool();
  process.env.BT_STATE_TEST = 'at boot';
  const first = await ended({ target: target('env'), args: ['BT_STATE_TEST'] });
  assert.is(first.result, 'at boot');
  process.env.BT_STATE_TEST = 'changed later';
  const again = await ended({ target: target('env'), args: ['BT_STATE_TEST'] });
  assert.is(again.nativeId, first.nativeId, 'the same warm isolate');
  assert.is(again.result, 'changed later');
  const setter = await ended({ target: target('env'), args: ['BT_FROM_A_MODULE', { BT_FROM_A_MODULE: 'set there' }] });
  assert.is(setter.result, 'set there');
  assert.is(process.env.BT_FROM_A_MODULE, 'set there', 'the creator sees it');
  delete process.env.BT_STATE_TEST;
  delete process.env.BT_FROM_A_MODULE;
});

// --- item 7: 'exit' listeners --------------------------------------------------------------------

test('a module\'s process.on(\'exit\') listeners run when its warm isolate ends with the process', async () => {
  const r = await runChild(`${CHILD}
const t = await run('onExit', ['MODULE EXIT']);
console.log('LISTENERS', t.result);
`, QUICK);
  assertExit(r, 0, ['LISTENERS 1', 'MODULE EXIT 0']);
});

test('...and when the pool ends an idle isolate (maxIdle lowered)', async () => {
  const r = await runChild(`${CHILD}
import { setIsolatePool, isolatePool } from 'background-thread';
await run('onExit', ['MODULE EXIT']);
setIsolatePool({ maxIdle: 0, idleTimeout: 0 });
while (isolatePool().busy + isolatePool().idle > 0) await sleep(1);
await sleep(50);
console.log('POOL EMPTY');
`, QUICK);
  assertExit(r, 0, ['MODULE EXIT 0', 'POOL EMPTY']);
});

test('the package takes no \'exit\' listener slot: eight threads on one isolate add eight, with no MaxListenersExceededWarning', async () => {
  // Node itself has two 'exit' listeners in a Worker (handleProcessExit, for top-level await, and
  // flushSync, its stdio's): eight are the module's budget; with the package's two the warning
  // came on the seventh.
  const r = await runChild(`${CHILD}
const counts = [];
const own = () => process.listeners('exit').filter((listener) => listener.name !== 'handleProcessExit').length;
let home = null;
for (let i = 0; i < 8; i++) {
  const t = await run('onExit', ['EXIT ' + i]);
  home ??= t.nativeId;
  if (t.nativeId !== home) throw new Error('another isolate');
  counts.push(t.result);
}
console.log('COUNTS', counts.join(), 'CREATOR', own(), process.listenerCount('beforeExit'));
`, QUICK);
  assertExit(r, 0, ['COUNTS 1,2,3,4,5,6,7,8 CREATOR 0 0',
    ...Array.from({ length: 8 }, (_, i) => `EXIT ${i} 0`)]);
  assert.not.match(r.stderr, /MaxListenersExceededWarning/);
});

// --- item 4: arguments are not pinned ------------------------------------------------------------

// ASan's allocator keeps what is freed in its quarantine: resident memory says nothing there.
const asan = /libasan/.test(process.env.LD_PRELOAD ?? '');

test('after join(), neither the idle isolate nor the creator keeps a thread\'s arguments', async () => {
  // The creator's: weak references to them are cleared. The isolate's copies: the process's
  // resident memory (the isolate's included) falls back, polled with a generous deadline (the
  // machine is shared): pinned, they would stay forever.
  const r = await runChild(`${CHILD}
const MiB = 1024 * 1024;
await run('external');
const base = process.memoryUsage().rss;
const args = [new Uint8Array(100 * MiB).fill(1), new Uint8Array(100 * MiB).fill(1)];
const weak = args.map((a) => new WeakRef(a));
const t = await run('take', args);
args.length = 0;
console.log('TOOK', t.result / MiB);
let kept;
for (const deadline = performance.now() + 30000; performance.now() < deadline; await sleep(50)) {
  gc();
  kept = { creator: weak.filter((w) => w.deref() !== undefined).length, rss: Math.round((process.memoryUsage().rss - base) / MiB) };
  if (kept.creator === 0 && (${asan} || kept.rss < 100)) break;
}
console.log('CREATOR KEEPS', kept.creator);
console.log('FREED', ${asan} || kept.rss < 100, kept.rss);
`, { ...QUICK, execArgv: ['--expose-gc'] });
  assertExit(r, 0);
  assert.match(r.stdout, /^TOOK 200\nCREATOR KEEPS 0\nFREED true /);
});

test.run();
