// Loads the package (whichever binary node-gyp-build picks: set PREBUILDS_ONLY=1 to force the
// prebuild) and checks the basics on this platform: a thread through start, target, join and
// joinSync; a daemon thread that does not hold the process open; a module target (an isolate).
// Prints what it saw as JSON. Exit 0 = fine. Used by the cmake-js, prebuild and cross checks
// (arm64 under qemu-user).
const { BackgroundThread, currentThread } = require('background-thread');
const binary = require('node-gyp-build').path(require('node:path').dirname(require.resolve('background-thread/package.json')));

let ran = false;
const thread = new BackgroundThread({
  name: 'smoke',
  args: [21],
  target: async (x) => { await null; ran = currentThread().name === 'smoke' && x * 2 === 42; },
});
thread.start();
// Never ends by itself: if it held the process open, the script would never exit.
new BackgroundThread({
  daemon: true, target: () => new Promise(() => setInterval(() => {}, 1000)),
}).start();
const isolated = new BackgroundThread({
  target: { module: 'data:text/javascript,export const twice = (x) => x * 2;', export: 'twice' },
  args: [21],
});
isolated.start();

(async () => {
  const ended = await thread.join(60);
  const joinSync = thread.joinSync(1);
  const moduleEnded = await isolated.join(120);
  const result = {
    arch: process.arch, node: process.version, binary, ended, ran, joinSync,
    nativeId: thread.nativeId, moduleEnded, moduleResult: isolated.result,
  };
  console.log(JSON.stringify(result));
  process.exitCode = ended && ran && joinSync && moduleEnded && isolated.result === 42 ? 0 : 1;
})();
