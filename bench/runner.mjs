// Runs the jobs of config.mjs: every measurement in a fresh child process (peers/*), so RSS and
// JIT state never leak from one to the next. The peers take turns within a round, their order
// rotating from round to round so that no peer always goes first; a child that fails or times out
// is retried once. Also what the report says about the run: the machine, the tools, the build
// measured, and how busy other processes kept the CPUs.
//
//   const run = await measure({ jobs, peers });   // -> { results, missing, info, ... }
//   results[jobId][peerId] = { params, rounds: [{ round, seconds, result } | { round, error }] }
// A child that answers { na: reason } (it cannot take that measurement) is not asked again.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { paramsOf } from './config.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const root = join(here, '..');

const tryRun = (cmd, args) => {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 }).trim();
  } catch {
    return null;
  }
};
const readText = (file) => { try { return readFileSync(file, 'utf8'); } catch { return ''; } };

function machine() {
  const cpuinfo = readText('/proc/cpuinfo');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown CPU';
  const release = /^PRETTY_NAME="?([^"\n]+)"?/m.exec(readText('/etc/os-release'))?.[1] ?? os.type();
  return {
    cpu: model.trim(),
    cores: os.availableParallelism?.() ?? os.cpus().length,
    memGiB: Math.round(os.totalmem() / 2 ** 30 * 10) / 10,
    os: `${release}, ${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    python: tryRun('python3', ['--version']),
    cc: tryRun(process.env.CC || 'cc', ['--version'])?.split('\n')[0] ?? null,
    stackRlimitKiB: Number(tryRun('sh', ['-c', 'ulimit -s'])) || null,
  };
}

/** CPU time (s) used by the whole machine, and by this process and its reaped children. */
function cpuTimes() {
  const hz = 100;  // USER_HZ on Linux
  const fields = readText('/proc/stat').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  if (fields.length < 8) return null;
  const [user, nice, system, , , irq, softirq, steal] = fields;
  const stat = readText('/proc/self/stat');
  const own = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);  // own[0] is field 3
  return { machine: (user + nice + system + irq + softirq + steal) / hz,
    ours: (own[11] + own[12] + own[13] + own[14]) / hz };
}

/** The build of the package in `dir` that the bench measures: its commit, and the addon's mtime. */
export function addonInfo(dir = root) {
  const file = join(dir, 'build/Release/background_thread.node');
  const mtime = existsSync(file) ? statSync(file).mtime.toISOString() : null;
  const commit = tryRun('git', ['-C', dir, 'rev-parse', '--short', 'HEAD']);
  const dirty = tryRun('git', ['-C', dir, 'status', '--porcelain', '--', 'native', 'src']);
  return { commit, dirtySources: Boolean(dirty), addon: existsSync(file) ? 'build/Release/background_thread.node' : 'prebuild', addonMtime: mtime };
}

// ---------------------------------------------------------------------------------------------
// Children.
let current = null;  // the running child, killed on SIGINT/SIGTERM
let tmp = null;      // where pthreads.c is compiled
// A child runs in its own process group (spawn's detached), killed as one: what it started itself
// (the remote job's redis-server and workers) goes with it, whether it timed out, was stopped or
// left something behind.
const killGroup = (child) => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* none left */ } };
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (current) killGroup(current);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    process.stderr.write(`\nbench: ${signal}, stopped\n`);
    process.exit(130);
  });
}

/** The environment of a child: the baseline peer's imports its package from peer.package. */
function envFor(peer) {
  const env = { ...process.env };
  delete env.BENCH_PACKAGE;  // else a value left in the shell would turn bt into a baseline too
  if (peer?.package) {
    env.BENCH_PACKAGE = peer.package;
    delete env.BACKGROUND_THREAD_ADDON;  // the baseline runs its own build of the addon
  }
  return env;
}

/** Runs one child; resolves with the JSON of its last stdout line. */
function runChild(cmd, args, timeoutSeconds, env = envFor(null)) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    current = child;
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => { killGroup(child); err += `\ntimed out after ${timeoutSeconds} s`; }, timeoutSeconds * 1000);
    child.on('error', (e) => { clearTimeout(timer); current = null; reject(e); });
    child.on('exit', () => killGroup(child));  // else a leftover holding its stderr delays 'close'
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      current = null;
      const line = out.trim().split('\n').pop();
      if (code === 0 && line) {
        try {
          resolve(JSON.parse(line));
          return;
        } catch { /* fall through */ }
      }
      const tail = err.trim().split('\n').slice(-3).join(' | ') || `exit ${code ?? signal}`;
      reject(new Error(tail.slice(0, 300)));
    });
  });
}

function command(peer, params, tools) {
  const { note, ...p } = params;
  if (peer.kind === 'node') return [process.execPath, ['--expose-gc', join(here, 'peers', peer.script), JSON.stringify(p)]];
  if (peer.kind === 'python') return ['python3', [join(here, 'peers', peer.script), JSON.stringify(p)]];
  const args = p.metric === 'latency' ? [p.n, p.warmup]
    : p.metric === 'throughput' ? [p.n, p.inFlight, p.warmup]
      : p.metric === 'cpu' ? [p.ms, p.tasks ?? 2]
        : [p.alive, p.stack, p.warmup];
  return [tools.pthreads, [p.metric, ...args.map(String)]];
}

/** Peers' availability: python3 and a C compiler are optional. */
function setUpTools(dir) {
  const tools = {};
  const missing = {};
  if (tryRun('python3', ['-c', 'import threading, json']) === null) missing.python = 'python3 not found';
  const cc = process.env.CC || 'cc';
  const exe = join(dir, 'pthreads');
  try {
    execFileSync(cc, ['-O2', '-pthread', '-o', exe, join(here, 'peers', 'pthreads.c')], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    tools.pthreads = exe;
  } catch (e) {
    missing.pthreads = e.code === 'ENOENT' ? `no C compiler (${cc})` : `${cc} failed: ${String(e.stderr ?? e.message).split('\n')[0]}`;
  }
  return { tools, missing };
}

/** Exits with a hint unless the package (this checkout's, or the baseline's) loads and runs. */
async function preflight(peer) {
  const from = peer?.package ? pathToFileURL(join(peer.package, 'dist/index.mjs')).href : 'background-thread';
  const code = `import { BackgroundThread } from '${from}'; const t = new BackgroundThread({ target: () => {} }); t.start(); if (!(await t.join(10))) process.exit(1); console.log('{}');`;
  try {
    await runChild(process.execPath, ['--input-type=module', '-e', code], 60, envFor(peer));
  } catch (e) {
    const where = peer?.package ? ` in ${peer.package}` : '';
    process.stderr.write(`bench: background-thread${where} does not load or run (${e.message}).\nBuild it first: npm run compile${where ? ` (in ${peer.package})` : ''}\n`);
    process.exit(1);
  }
}

// ---------------------------------------------------------------------------------------------
/**
 * Runs every job for every peer, round after round (a job with fewer rounds sits out the later
 * ones). Progress goes to stderr. Returns the raw results and what the report needs about the run.
 */
export async function measure({ jobs, peers, mode }) {
  const began = performance.now();
  tmp = mkdtempSync(join(os.tmpdir(), 'bgt-bench-'));
  const { tools, missing } = setUpTools(tmp);
  const info = machine();
  const buildBefore = addonInfo();
  const baseline = peers.find((p) => p.package);
  await preflight(null);
  if (baseline) await preflight(baseline);
  const cpuBefore = cpuTimes();
  const loadBefore = os.loadavg()[0];

  const results = {};
  const totalRounds = Math.max(...jobs.map((j) => j.rounds));
  const progress = (s) => process.stderr.write(s);
  progress(`bench: ${mode} run, ${totalRounds} rounds, ${jobs.length} measurements x ${peers.length} peers, each in a fresh process\n`);
  for (let round = 0; round < totalRounds; round++) {
    const order = peers.map((_, i) => peers[(i + round) % peers.length]);
    progress(`round ${round + 1}/${totalRounds}:`);
    for (const job of jobs) {
      if (round >= job.rounds) continue;
      results[job.id] ??= {};
      for (const peer of order) {
        const params = paramsOf(job, peer);
        const slot = (results[job.id][peer.id] ??= { params, rounds: [] });
        if (!params || params.na || missing[peer.id]) continue;
        if (slot.rounds.some((r) => r.result?.na)) continue;  // the child said n/a: it will again
        const [cmd, args] = command(peer, params, tools);
        const t0 = performance.now();
        let entry;
        for (let attempt = 1; attempt <= 2; attempt++) {
          try {
            const result = await runChild(cmd, args, job.timeout, envFor(peer));
            if (params.metric === 'rss' && !result.na && !(result.tasks >= params.alive)) throw new Error(`${result.tasks} OS threads for ${params.alive} alive`);
            entry = { round, seconds: Math.round((performance.now() - t0) / 10) / 100, result };
            break;
          } catch (e) {
            // One retry: others may be rebuilding the addon under us.
            entry = { round, error: e.message };
            if (attempt === 1) await new Promise((r) => setTimeout(r, 1000));
          }
        }
        slot.rounds.push(entry);
        progress(entry.error ? ` ${job.id}/${peer.id}:ERROR` : '.');
      }
    }
    progress(` ${((performance.now() - began) / 1000).toFixed(1)} s\n`);
  }
  rmSync(tmp, { recursive: true, force: true });
  tmp = null;
  const buildAfter = addonInfo();
  const cpuAfter = cpuTimes();
  const wall = (performance.now() - began) / 1000;
  // Other processes' share of the machine's CPUs while we measured (0..1): the bench is only as
  // clean as this is low.
  const otherLoad = cpuBefore && cpuAfter
    ? Math.max(0, ((cpuAfter.machine - cpuBefore.machine) - (cpuAfter.ours - cpuBefore.ours)) /
      (wall * info.cores))
    : null;
  return {
    results, missing, info, buildBefore, buildAfter, otherLoad, loadBefore,
    baseline: baseline ? { dir: baseline.package, ...addonInfo(baseline.package) } : null,
  };
}
