// Exceptions and the excepthook with fuzzed input, property-based (fast-check; harness in
// helpers/fuzz.mjs): setExcepthook(x) sets functions and null only (a bad value gets
// ERR_INVALID_ARG_TYPE and keeps the hook), and any hook, however broken (throwing, rejecting,
// a revoked proxy, returning a thenable), gets the thread's exception or is reported on stderr,
// with nothing escaping to the process; the exported default excepthook(x) with any argument
// writes its report or throws a documented error; and a target that throws or returns anything
// (hostile thenables and Promises included) ends its thread, reaches the hook once, and leaks
// nothing (in a child process, since a failure there can leave a thread that never ends).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { fileURLToPath } from 'node:url';
import { BackgroundThread, excepthook, getExcepthook, setExcepthook } from 'background-thread';
import { assertExit, describe, runNode } from './helpers/child.mjs';
import { SEED, fail, fuzzer, hookCalls, recordingHook, runs, show, track } from './helpers/fuzz.mjs';
import * as V from './helpers/fuzz-values.mjs';
import { captureStderr } from './helpers/stderr.mjs';
import { nextTurn } from './helpers/wait.mjs';

const fuzz = fuzzer(test);

// Hooks of this test's making, well- and ill-behaved (fails: the hook itself fails, reported).
const HOOK_KINDS = {
  recording: { make: () => recordingHook },
  throwing: { fails: true, make: () => () => V.userThrow('hook', 'hook body') },
  asyncThrowing: { fails: true, make: () => async () => V.userThrow('hook', 'async hook body') },
  rejectedWithThrowingCatch: {
    fails: true,
    make: () => () => {
      const p = Promise.reject(new V.FuzzUserError('hook', 'rejection of a hook result'));
      p.catch = () => V.userThrow('hook', 'catch of the hook result');
      return p;
    },
  },
  throwsRevoked: { fails: true, make: () => () => { throw V.revoked('hook'); } },
  revoked: { fails: true, make: () => V.revoked('hook', 'function') },
  proxyApplyThrows: { fails: true, make: () => V.throwingProxy('hook', 'function', 'apply') },
  returnsThenable: { make: () => () => ({ then() { throw new Error('never called'); } }) },
};
const hookArbitrary = fc.oneof(
  { arbitrary: V.values(null), weight: 1 },
  { arbitrary: fc.constantFrom(...Object.keys(HOOK_KINDS)).map((kind) => ({ ...V.spec(`hook:${kind}`, HOOK_KINDS[kind].make), hookKind: kind })), weight: 3 },
  { arbitrary: V.fuzzValue, weight: 3 },
);

fuzz('setExcepthook(x): sets functions and null only; any accepted hook leaves the process unharmed', hookArbitrary, async (hookSpec) => {
  const previous = getExcepthook();
  const hook = hookSpec.make('hook');
  const outcome = V.attempt(() => setExcepthook(hook));
  const valid = hook === null || typeof hook === 'function';
  if (!valid) {
    if (outcome.ok) fail(`setExcepthook(${hookSpec.label}) accepted`);
    V.expectAllowed(outcome, { codes: ['ERR_INVALID_ARG_TYPE'], inputs: [{ value: hook, tag: 'hook' }] }, 'setExcepthook');
    if (getExcepthook() !== previous) fail('a rejected hook replaced the previous one');
    return;
  }
  if (!outcome.ok) fail(`setExcepthook(${hookSpec.label}) rejected: ${V.describeError(outcome.error)}`);
  if (getExcepthook() !== (hook === null ? excepthook : hook)) fail('getExcepthook() is not the hook just set');
  // A thread whose target throws goes through the hook; whatever the hook does, nothing escapes.
  const stderr = captureStderr();
  const thrown = new Error('thrown by the target');
  let t;
  try {
    // Daemon: should a hook's failure keep the thread from ending, it must not hold the test run
    // open.
    t = track(new BackgroundThread({ name: 'fuzz-hook', daemon: true, target: () => { throw thrown; } }));
    t.start();
    if (await t.join(10) !== true) fail('the thread did not end');
    await nextTurn();
  } finally {
    stderr.restore();
  }
  if (hook === recordingHook) {
    const [args, more] = hookCalls();
    if (more !== undefined || args?.excValue !== thrown || args.thread !== t || !Object.isFrozen(args)) fail('the hook did not get the thread\'s exception');
  } else if (hook === null) {
    if (!stderr.text.includes('Exception in thread fuzz-hook:')) fail(`default hook wrote ${show(stderr.text)}`);
  } else if (HOOK_KINDS[hookSpec.hookKind]?.fails && !stderr.text.includes('Exception in threading.excepthook:')) {
    fail(`a failing hook is not reported on stderr: ${show(stderr.text)}`);
  }
}, 300);

// The exported default hook is public too: called with anything, it writes to stderr or throws
// a documented error (or the caller's own error: it reads args.thread.name).
fuzz('excepthook(x), the exported default hook, with any argument: documented errors only', V.fuzzValue, async (xSpec) => {
  const x = xSpec.make('args');
  const stderr = captureStderr();
  let outcome;
  try {
    outcome = V.attempt(() => excepthook(x));
  } finally {
    stderr.restore();
  }
  V.expectAllowed(outcome, { userTags: ['args'], inputs: [{ value: x, tag: 'args' }] }, `excepthook(${xSpec.label})`);
  if (outcome.ok && !stderr.text.startsWith('Exception in thread ')) fail(`excepthook wrote ${show(stderr.text)}`);
}, 200);

// What a target throws or returns (hostile thenables included): run in a child process, because
// a failure there can leave a thread that never ends, which must not leak into this process.
test('targets that throw or return anything (fuzz, in a child process): no crash, no leak, hook called', async () => {
  const child = fileURLToPath(new URL('./fixtures/fuzz-thread-results.mjs', import.meta.url));
  const r = await runNode([child],
    { env: { FUZZ_SEED: String(SEED), FUZZ_RUNS: String(runs(400)) }, timeout: 120000 });
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  let report;
  try { report = JSON.parse(line); } catch { assert.unreachable(`no report from the child\n${describe(r)}`); }
  if (report.failure !== null) assert.unreachable(`property failed in the child:\n${report.failure}`);
  const kinds = Object.entries(report.failingKinds).map(([kind, why]) => `${kind}: ${why}`);
  if (kinds.length > 0) assert.unreachable(`target results that fail:\n${kinds.join('\n')}`);
  assert.equal(report.leakedTids, [], 'OS threads left over in the child');
  assertExit(r, 0);
});

test.run();
