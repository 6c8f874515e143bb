// The layer rules of src/ (scripts/check-layers.mjs, run by npm run lint): they hold, and a
// planted breach of each kind is caught.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCRIPT = join(ROOT, 'scripts', 'check-layers.mjs');

function check(src) {
  return spawnSync(process.execPath, [SCRIPT, src], { encoding: 'utf8' });
}

/** Runs the check on a copy of src/ where `file` has `line` prepended. */
function withLine(file, line) {
  const dir = mkdtempSync(join(tmpdir(), 'layers-'));
  try {
    cpSync(join(ROOT, 'src'), dir, { recursive: true });
    const path = join(dir, file);
    writeFileSync(path, `${line}\n${readFileSync(path, 'utf8')}`);
    return check(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('src/ keeps its layers', () => {
  const out = execFileSync(process.execPath, [SCRIPT], { encoding: 'utf8' });
  assert.match(out, /their imports within the rules/);
});

test('a lower layer importing a higher one is caught; a type from anywhere is not', () => {
  const up = withLine('core/errors.ts', "import { attach } from '../native/loop';");
  assert.is(up.status, 1);
  assert.match(up.stderr, /core\/errors\.ts: imports native\/loop\.ts, of a layer \(native\/\) not below its own \(core\/\)/);
  const sideways = withLine('isolate/pool.ts', "const r = require('../remote/body');");
  assert.is(sideways.status, 1);
  assert.match(sideways.stderr, /isolate\/pool\.ts: imports remote\/body\.ts/);
  const typeOnly = withLine('core/errors.ts', "import type { BackgroundThread } from '../thread/background-thread';");
  assert.is(typeOnly.status, 0, typeOnly.stderr);
});

test('an entry point imported, or an import of no file, is caught', () => {
  const entry = withLine('thread/threading.ts', "import '../isolate/runner';");
  assert.is(entry.status, 1);
  assert.match(entry.stderr, /imports the entry point isolate\/runner\.ts/);
  const missing = withLine('thread/threading.ts', "import { x } from './nowhere';");
  assert.is(missing.status, 1);
  assert.match(missing.stderr, /'\.\/nowhere' is no file of src\//);
});

test.run();
