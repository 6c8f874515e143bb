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
    'holdIsolateOpen', 'identifyCurrentThread', 'join', 'joinSync', 'nativeId', 'pollWithoutBlocking',
    'settled', 'start']);
  assert.is(out.again, 'init() was already called');
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
