// Assertions on the package's typed errors: the class, the stable `code` and (optionally) the
// message; for join() and joinAll(), a returned Promise that rejects (never a synchronous throw).
import * as assert from 'uvu/assert';

/**
 * `fn()` throws an instance of `Type` with `code`; returns the error. `check`: a RegExp the
 * message must match, or a string naming the call in failure messages.
 */
export function throwsTyped(fn, Type, code, check) {
  const what = typeof check === 'string' ? `${check}: ` : '';
  try {
    fn();
  } catch (error) {
    assert.instance(error, Type, `${what}expected ${Type.name} ${code}, got ${error?.name} ${error?.code}: ${error?.message}`);
    assert.is(error.code, code, `${what}code of ${error.name}: ${error.message}`);
    if (check instanceof RegExp) assert.match(error.message, check);
    return error;
  }
  return assert.unreachable(`${what}expected ${Type.name} ${code}`);
}

/** `promise` is a Promise that rejects like throwsTyped; returns the error. */
export async function rejectsTyped(promise, Type, code, pattern) {
  assert.instance(promise, Promise, 'must return a Promise, not throw');
  try {
    await promise;
  } catch (error) {
    assert.instance(error, Type, `expected ${Type.name} ${code}, got ${error?.name} ${error?.code}: ${error?.message}`);
    assert.is(error.code, code);
    if (pattern) assert.match(error.message, pattern);
    return error;
  }
  return assert.unreachable(`expected a rejection with ${Type.name} ${code}`);
}
