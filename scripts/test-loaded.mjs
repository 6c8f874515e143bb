// npm run test:loaded: the whole uvu suite (as `npm test` runs it) while CPU-bound processes (one
// per core, at least two) compete for the cores, as on a shared machine. Tests prove behaviour,
// never speed, so the suite must pass here every time, only slower.
// The competitors are ended on every way out: the suite's end (pass or fail), a signal to this
// script (passed on to the suite too), an exception here; and should this script be killed with
// SIGKILL, each competitor sees its parent gone within a fraction of a second and exits by itself.
import { spawn } from 'node:child_process';
import { availableParallelism, constants } from 'node:os';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const COMPETITOR = `const parent = process.ppid;
for (;;) {
  for (const end = Date.now() + 200; Date.now() < end;);
  try { process.kill(parent, 0); } catch { process.exit(0); }
}`;
const competitors = Array.from({ length: Math.max(2, availableParallelism()) }, () =>
  spawn(process.execPath, ['-e', COMPETITOR], { stdio: 'ignore' }));
const endCompetitors = () => { for (const child of competitors) child.kill('SIGKILL'); };
process.on('exit', endCompetitors);

console.log(`test:loaded: ${competitors.length} CPU-bound competitors running`);
const started = performance.now();
const suite = spawn(process.execPath, ['node_modules/uvu/bin.js', 'test', '\\.test\\.mjs$', '-i', 'package'],
  { cwd: root, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    suite.kill(signal);
    endCompetitors();
    process.exit(128 + constants.signals[signal]);
  });
}
suite.on('exit', (code, signal) => {
  endCompetitors();
  console.log(`test:loaded: the suite ended (${signal ?? `exit ${code}`}) after ` +
    `${Math.round((performance.now() - started) / 1000)} s against ${competitors.length} competitors`);
  process.exit(signal ? 128 + (constants.signals[signal] ?? 0) : code);
});
