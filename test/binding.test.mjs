// The native seam: the addon exports only init() and its limits, so that no thread can be
// started, joined or bound to a Worker in an event loop whose events and teardown are not set up;
// and loading the package attaches nothing: the loop is attached by the first call that needs it.
// Each case runs in a fresh child process, where the package has not been loaded yet.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assertExit, describe, runChild } from './helpers/child.mjs';

// The addon the package loads (the same file, hence the same instance in this env).
const LOAD_ADDON = `
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
const require = createRequire(process.cwd() + '/');
const override = process.env.BACKGROUND_THREAD_ADDON;
const addon = override ? require(resolve(override)) : require('node-gyp-build')(process.cwd());
`;

async function run(source) {
  const result = await runChild(LOAD_ADDON + source, { timeout: 60000 });
  assertExit(result, 0);
  return JSON.parse(result.stdout.trim().split('\n').pop());
}

test('the addon exports init() and the limits only; init() returns the loop binding, once', async () => {
  const out = await run(`
    const exported = Object.getOwnPropertyNames(addon).sort();
    const loop = addon.init(() => {});
    let again;
    try { addon.init(() => {}); } catch (error) { again = error.message; }
    console.log(JSON.stringify({ exported, bound: Object.getOwnPropertyNames(loop).sort(), again }));
  `);
  assert.equal(out.exported, ['defaultParkedIdleSeconds', 'init', 'maxParkedPerStackSize', 'maxStackSize',
    'maxThreadNameBytes', 'minStackSize', 'parkedThreadName']);
  assert.equal(out.bound, ['adopt', 'adoptedExited', 'bindAdopted', 'dropAdopted', 'finishAdopted', 'finishAtTurnEnd',
    'holdIsolateOpen', 'identifyCurrentThread', 'join', 'joinSync', 'liveCount', 'liveThreads', 'nativeId',
    'pollWithoutBlocking', 'settled', 'start']);
  assert.is(out.again, 'init() was already called');
});

test("the loop's one registry: start() and adopt() enter the thread object, its events name it, its end removes it", async () => {
  const out = await run(`
    const events = [];
    const loop = addon.init((kind, subject) => {
      events.push([kind, subject.label, loop.liveCount()]);
      if (kind === 0) loop.settled(subject.ident);
    });
    let refused;
    try { loop.start('x', 0, false); } catch (error) { refused = error.name; }
    const a = { label: 'a' }, b = { label: 'b' }, c = { label: 'c' };
    a.ident = loop.start('a', 0, false, a)[0];
    b.ident = loop.start('b', 0, true, b)[0];
    c.ident = loop.adopt('c', false, c);
    const listed = loop.liveThreads().map((thread) => thread.label);
    loop.finishAdopted(c.ident);
    await Promise.all([loop.join(a.ident, -1, true), loop.join(b.ident, -1, true), loop.join(c.ident, -1, true)]);
    console.log(JSON.stringify({ refused, listed, events, after: loop.liveCount() }));
  `);
  assert.is(out.refused, 'TypeError', 'start() without the thread object');
  assert.equal(out.listed, ['a', 'b', 'c'], 'in the order started');
  const ended = out.events.filter(([kind]) => kind === 1);
  assert.equal(ended.map(([, label]) => label).sort(), ['a', 'b', 'c'], 'each end once, with its object');
  for (const [, label, count] of ended) assert.ok(count >= 1, `${label} is still listed while its end is delivered`);
  assert.is(out.after, 0);
});

test('init() needs an event handler: a TypeError, and the loop stays unattached', async () => {
  const out = await run(`
    let error;
    try { addon.init(42); } catch (e) { error = { name: e.name, message: e.message }; }
    addon.init(() => {});  // still possible
    console.log(JSON.stringify({ error }));
  `);
  assert.equal(out.error, { name: 'TypeError', message: 'onEvent must be a function' });
});

test('importing the package (import and require) attaches no loop; starting a thread does', async () => {
  const out = await run(`
    const esm = await import('background-thread');
    const cjs = require('background-thread');
    const attachedAtImport = (() => {
      try { addon.init(() => {}); return false; } catch { return true; }
    })();
    console.log(JSON.stringify({ attachedAtImport, same: esm.BackgroundThread === cjs.BackgroundThread }));
  `);
  assert.is(out.attachedAtImport, false, 'init() was still free after import');
  assert.is(out.same, true);

  const started = await run(`
    const { BackgroundThread } = await import('background-thread');
    const t = new BackgroundThread({ target: () => {} });
    t.start();
    const joined = await t.join(30);
    let again;
    try { addon.init(() => {}); } catch (error) { again = error.message; }
    console.log(JSON.stringify({ joined, again }));
  `);
  assert.equal(started, { joined: true, again: 'init() was already called' }, describe);
});

test.run();
