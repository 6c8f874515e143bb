// Loads the package (whichever binary node-gyp-build picks: set PREBUILDS_ONLY=1 to force the
// prebuild), runs one thread through start, target, join, and prints what it saw. Exit 0 = fine.
// Used by the cmake-js, prebuild and arm64 checks.
const { BackgroundThread, currentThread } = require('background-thread');
const binary = require('node-gyp-build').path(require('node:path').dirname(require.resolve('background-thread/package.json')));
let ran = false;
const thread = new BackgroundThread({
  name: 'smoke',
  args: [21],
  target: async (x) => { await null; ran = currentThread().name === 'smoke' && x * 2 === 42; },
});
thread.start();
thread.join(30).then((ended) => {
  const result = { arch: process.arch, node: process.version, binary, ended, ran, nativeId: thread.nativeId };
  console.log(JSON.stringify(result));
  process.exitCode = ended && ran ? 0 : 1;
});
