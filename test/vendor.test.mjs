// node-addon-api's headers ship in native/vendor (a build from source needs no dependency): the
// copy must be the pinned devDependency's, byte for byte (scripts/vendor-node-addon-api.mjs).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { stale } from '../scripts/vendor-node-addon-api.mjs';

test('the vendored node-addon-api is the pinned one (refresh: node scripts/vendor-node-addon-api.mjs)', () => {
  assert.equal(stale(), []);
});

test('node-addon-api is not a runtime dependency', () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  assert.not.ok('node-addon-api' in pkg.dependencies);
  assert.ok('node-addon-api' in pkg.devDependencies);
});

test.run();
