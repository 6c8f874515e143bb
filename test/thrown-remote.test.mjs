// A remote thread's exception is the one its export threw, whole (#22 item 5, the fleet's side):
// class, name, message, code of any type, other own properties, cause, an AggregateError's
// errors, a DOMException, Node's AbortError. The worker seals it in the job's hash beside
// BullMQ's failedReason and stacktrace; the creator opens and checks it before it rebuilds it,
// and falls back to what BullMQ keeps when there is none (or it does not open).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BackgroundThread, getExcepthook, setExcepthook } from 'background-thread';
import { inspectQueue, rawClient, remoteFixture } from './helpers/remote.mjs';
import { withTimeout } from './helpers/wait.mjs';

const THROWS = new URL('./fixtures/remote/jobs/throws.mjs', import.meta.url).href;
const { redis, queue, it } = await remoteFixture(test);

/** Runs export `name` remotely and returns its thread's exception, with the excepthook's copy. */
async function thrownBy(name) {
  const seen = [];
  const previous = getExcepthook();
  setExcepthook((args) => { seen.push(args.excValue); });
  try {
    const t = new BackgroundThread({ target: { module: THROWS, export: name, remote: true } });
    t.start();
    assert.ok(await withTimeout(t.join(), 60, 'join'));
    assert.is(seen[0], t.exception, 'the excepthook saw the same value');
    return t.exception;
  } finally {
    setExcepthook(previous);
  }
}

it('an AggregateError keeps its errors, each with its class and code', async () => {
  const error = await thrownBy('aggregate');
  assert.instance(error, AggregateError);
  assert.is(error.message, 'both failed');
  assert.is(error.errors.length, 2);
  assert.instance(error.errors[0], TypeError);
  assert.is(error.errors[0].message, 'first');
  assert.is(error.errors[1].code, 503, 'a numeric code');
});

it('a DOMException and Node\'s AbortError keep their class, name and code', async () => {
  const dom = await thrownBy('domException');
  assert.instance(dom, DOMException);
  assert.is(dom.name, 'AbortError');
  assert.is(dom.message, 'the operation was aborted');
  assert.is(dom.code, 20, 'DOMException.ABORT_ERR');
  const abort = await thrownBy('abortError');
  assert.is(abort.name, 'AbortError');
});

it('a custom class keeps its name, lower-case and numeric properties, and its cause', async () => {
  const error = await thrownBy('custom');
  assert.instance(error, Error);
  assert.is(error.name, 'QuotaError');
  assert.is(error.message, 'over quota');
  assert.is(error.code, 'e_lower');
  assert.is(error.status, 503);
  assert.instance(error.cause, RangeError);
  assert.is(error.cause.message, 'limit 10');
  assert.match(error.stack, /QuotaError: over quota/);
  assert.match(error.stack, /throws\.mjs/, 'the worker\'s stack');
});

it('a cause keeps its code and errno; a thrown non-Error is the value itself', async () => {
  const error = await thrownBy('caused');
  assert.is(error.cause.code, 'ECONNRESET');
  assert.is(error.cause.errno, -104);
  assert.equal(await thrownBy('value'), { reason: 'not an error', n: 7 });
});

it('a sealed exception that does not open (another job\'s, or forged) is ignored: BullMQ\'s fields are used', async () => {
  // Two failed jobs; the second's sealed field copied onto the first: it is bound to its own job.
  const first = new BackgroundThread({ target: { module: THROWS, export: 'custom', remote: true } });
  const second = new BackgroundThread({ target: { module: THROWS, export: 'aggregate', remote: true } });
  const previous = getExcepthook();
  setExcepthook(() => {});
  try {
    first.start();
    second.start();
    assert.ok(await withTimeout(first.join(), 60, 'join'));
    assert.ok(await withTimeout(second.join(), 60, 'join'));
  } finally {
    setExcepthook(previous);
  }
  const q = await inspectQueue(redis.socket, queue);
  try {
    const client = await rawClient(q);
    const copied = await client.hget(q.toKey(second.remote.jobId), 'bgtThrown');
    assert.type(copied, 'string', 'the worker sealed the exception in the job\'s hash');
    await client.hset(q.toKey(first.remote.jobId), 'bgtThrown', copied);
    const again = new BackgroundThread({ target: { module: THROWS, export: 'custom', remote: { jobId: first.remote.jobId } } });
    setExcepthook(() => {});
    try {
      again.start();
      assert.ok(await withTimeout(again.join(), 60, 'join'));
    } finally {
      setExcepthook(previous);
    }
    // The same job id, so the thread follows the failed job; its field does not open for it.
    assert.not.instance(again.exception, AggregateError);
    assert.is(again.exception.message, 'over quota', 'BullMQ\'s failedReason');
    assert.is(again.exception.name, 'QuotaError', 'the class named in the stack\'s first line');
  } finally {
    await q.close();
  }
});

test.run();
