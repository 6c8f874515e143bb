// node-addon-api is header-only: its headers ship in the tarball (native/vendor/node-addon-api),
// so that a build from source needs no runtime dependency. This copies them from the pinned
// devDependency; `npm test` (test/binding.test.mjs) fails when the copy and the pin differ.
//   node scripts/vendor-node-addon-api.mjs
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const VENDORED = fileURLToPath(new URL('../native/vendor/node-addon-api/', import.meta.url));
export const FILES = ['napi.h', 'napi-inl.h', 'napi-inl.deprecated.h', 'except.gypi', 'LICENSE.md', 'package.json'];

/** The pinned node-addon-api package's folder. */
export const upstream = () => dirname(createRequire(import.meta.url).resolve('node-addon-api/package.json'));

/** Files of the vendored copy that differ from the pinned package's. */
export function stale() {
  return FILES.filter((f) => {
    try {
      return !readFileSync(join(VENDORED, f)).equals(readFileSync(join(upstream(), f)));
    } catch {
      return true;
    }
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  mkdirSync(VENDORED, { recursive: true });
  for (const f of FILES) copyFileSync(join(upstream(), f), join(VENDORED, f));
  console.log(`vendored node-addon-api ${JSON.parse(readFileSync(join(VENDORED, 'package.json'), 'utf8')).version} into native/vendor/node-addon-api`);
}
