// What a module target's thread throws arrives whole on the creator's side (src/core/thrown.ts):
// AggregateError's errors, DOMException's name, message and code, AbortError's name, a custom
// class's name, codes of any type, the cause chain; thrown by the export, after an await, or
// from a timer outside it. And a module's process.exit(code) ends its thread normally (no
// exception, no excepthook call, as SystemExit ends a Python thread) with `thread.exitCode`.
// Fixture: test/fixtures/module-targets/fidelity.mjs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BackgroundThread } from 'background-thread';
import { withExcepthook } from './helpers/excepthook.mjs';
import { ended, poolTarget } from './helpers/isolates.mjs';

const target = (exportName) => poolTarget(exportName, 'fidelity.mjs');

// What each kind must be on arrival.
const EXPECT = {
  aggregate(e) {
    assert.instance(e, AggregateError);
    assert.is(e.message, 'both failed');
    assert.is(e.errors.length, 2);
    assert.instance(e.errors[0], TypeError);
    assert.is(e.errors[0].message, 'first');
    assert.equal([e.errors[1].message, e.errors[1].code], ['second', 'E2']);
  },
  domException(e) {
    assert.instance(e, DOMException);
    assert.equal([e.name, e.message, e.code], ['NotFoundError', 'gone away', 8]);
  },
  abort(e) {
    assert.instance(e, DOMException);
    assert.equal([e.name, e.code], ['AbortError', 20]);
  },
  abortError(e) {
    assert.instance(e, Error);
    assert.equal([e.name, e.message, e.code], ['AbortError', 'aborted by the caller', 'ABORT_ERR']);
  },
  custom(e) {
    assert.instance(e, Error);
    assert.equal([e.name, e.message], ['QuotaError', 'over quota']);
    assert.match(e.stack, /^QuotaError: over quota/);
  },
  lowerCode(e) { assert.is(e.code, 'e_lower'); },
  numericCode(e) { assert.is(e.code, 503); },
  cause(e) {
    assert.instance(e, RangeError);
    assert.instance(e.cause, Error);
    assert.equal([e.cause.message, e.cause.code], ['inner', 'E_INNER']);
  },
  string(e) { assert.is(e, 'a plain string'); },
};

for (const [how, exportName, args] of [
  ['thrown by the export', 'throwKind', []],
  ['rejected after an await', 'throwKind', [true]],
  ['thrown by a timer outside the export', 'throwStray', []],
]) {
  for (const [kind, check] of Object.entries(EXPECT)) {
    test(`${kind}, ${how}: the thread's exception and the excepthook's value arrive whole`, async () => {
      const calls = await withExcepthook(async () => {
        const t = await ended({ target: target(exportName), args: [kind, ...args] });
        check(t.exception);
        assert.is(t.result, undefined);
        assert.is(t.exitCode, undefined);
      });
      assert.is(calls.length, 1);
      check(calls[0].excValue);
    });
  }
}

// --- process.exit() of a module ------------------------------------------------------------------

for (const [label, args, code, isolate] of [
  ['process.exit(3)', [3], 3, 'warm'],
  ['process.exit(3), fresh isolate', [3], 3, 'fresh'],
  ['process.exit() (no code)', [], 0, 'warm'],
  ['process.exit(0)', [0], 0, 'warm'],
  ['process.exit(2), an \'exit\' listener setting process.exitCode = 7', [2, 7], 7, 'warm'],
]) {
  test(`${label}: the thread ends normally, thread.exitCode is ${code}`, async () => {
    const calls = await withExcepthook(async () => {
      const t = new BackgroundThread({ target: target('exitWith'), args, isolate });
      assert.is(t.exitCode, undefined, 'before start');
      t.start();
      assert.is(await t.join(), true);
      assert.is(t.exitCode, code);
      assert.is(t.exception, undefined, 'process.exit() is not an exception');
      assert.is(t.result, undefined);
    });
    assert.is(calls.length, 0, 'the excepthook was not called');
  });
}

test('exitCode is undefined for a module that did not call process.exit(), and for function targets', async () => {
  const returned = await ended({ target: poolTarget('count') });
  assert.is(returned.exitCode, undefined);
  const threw = await withExcepthook(() => ended({ target: target('throwKind'), args: ['lowerCode'] }));
  assert.is(threw.length, 1);
  const fn = await ended({ target: () => 1 });
  assert.is(fn.exitCode, undefined);
});

test('the thread after an exited one runs on another isolate, with no exitCode of its own', async () => {
  const exited = await ended({ target: target('exitWith'), args: [5] });
  const next = await ended({ target: poolTarget('count') });
  assert.is.not(next.nativeId, exited.nativeId);
  assert.equal([exited.exitCode, next.exitCode], [5, undefined]);
});

test.run();
