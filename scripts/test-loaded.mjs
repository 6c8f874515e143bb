// npm run test:loaded: the whole uvu suite (as `npm test` runs it) while two CPU-bound processes
// compete for the cores, as on a shared machine. Tests prove behaviour, never speed, so the suite
// must pass here every time. The competitors are ended on every way out.
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const competitors = Array.from({ length: Math.max(2, availableParallelism()) }, () =>
  spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
const endCompetitors = () => { for (const child of competitors) child.kill('SIGKILL'); };
process.on('exit', endCompetitors);
for (const [signal, number] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]]) {
  process.on(signal, () => { endCompetitors(); process.exit(128 + number); });
}

console.log(`test:loaded: ${competitors.length} CPU-bound competitors running`);
const suite = spawn(process.execPath, ['node_modules/uvu/bin.js', 'test', '\\.test\\.mjs$', '-i', 'package'],
  { cwd: root, stdio: 'inherit' });
suite.on('exit', (code, signal) => {
  endCompetitors();
  process.exit(code ?? (signal ? 1 : 0));
});
