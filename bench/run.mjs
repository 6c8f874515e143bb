// npm run bench: background-thread against worker_threads, setImmediate, Python's threading and
// raw pthreads, in one run on one machine.
//
//   node bench/run.mjs [--quick] [--rounds N] [--only latency,seq,...] [--out DIR]
//
// Every measurement runs in a fresh child process (bench/peers/*), so RSS and JIT state never leak
// from one to the next; each child warms up before it measures and prints one line of JSON. The
// peers take turns within a round (their order rotates from round to round), and the whole set
// runs `rounds` times (full: 5; --quick: fewer, with smaller counts, in well under a minute).
// A cell is the median of the per-round values, with their min and max:
//   latency      a round's value is the median of its N samples (µs)
//   throughput   a round's value is N / elapsed for that round (threads/s)
//   RSS          (VmRSS with the threads alive - VmRSS before) / alive, per round (KiB)
//   lag          p50 / p99 of a round's event-loop lag samples (ms)
//   module       module targets ({ module, export }, a Worker each) against a plain Worker running
//                the same export (peers/plain-worker.mjs): the median of a round's N starts (µs),
//                and N / elapsed for those N sequential start+joins (threads/s)
//   cpu          two runs of a CPU-bound loop (~cpuMs each, calibrated in the child), one after
//                the other, then in two threads at once: the round's wall times (ms) and their
//                ratio, the speed-up (x). background-thread: event-loop targets, then module targets
// Files: peers/background-thread.mjs, worker-threads.mjs, set-immediate.mjs (+ common.mjs,
// module-work.mjs: the module the module targets run, plain-worker.mjs: the plain Worker's entry),
// peers/threading_peer.py (python3), peers/pthreads.c (compiled here with `cc -O2 -pthread` into a
// temporary directory); a peer whose tool is missing shows "n/a" with the reason.
// Writes (to --out, default bench/): results.json (params, raw samples, per-round values, cells)
// and chart.svg (see chart.mjs); --quick writes results-quick.json and chart-quick.svg instead,
// --only / --rounds results-partial.json and chart-partial.svg, so that only a complete full run
// overwrites the committed figures.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { renderChart } from './chart.mjs';
import { fmt, median, summarize } from './stats.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const began = performance.now();

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    only: { type: 'string' },
    out: { type: 'string', default: here },
  },
});
const quick = opts.quick;

// ---------------------------------------------------------------------------------------------
// What runs, full and quick. Worker counts are far lower: a Worker is an isolate and an event loop.
// Quick: 3 rounds of latency, throughput, module targets and CPU-bound work, 1 round of RSS
// (1,000 alive only) and of lag (1 s).
// moduleLatency: [samples, warm-up] of module-target starts (a Worker each, for both peers);
// cpuMs: the work each of the two CPU-bound threads does (calibrated in each child).
const C = quick
  ? {
      rounds: 3, rssRounds: 1, lagRounds: 1, lagSeconds: 1,
      latency: { bt: [300, 100], worker: [8, 2], immediate: [1000, 200], python: [300, 50], pthreads: [1000, 100] },
      moduleLatency: [8, 2], cpuMs: 100,
      seq: { bt: 2000, worker: 10, immediate: 20000, python: 2000, pthreads: 5000 },
      inflight: { bt: 5000, worker: 100, immediate: 50000, python: 3000, pthreads: 10000 },
      alive: [1000], workerAlive: { 1000: 20 }, lagIdle: 1000, workerIdle: 50,
    }
  : {
      rounds: 5, rssRounds: 5, lagRounds: 5, lagSeconds: 3,
      latency: { bt: [1000, 200], worker: [20, 3], immediate: [2000, 500], python: [1000, 200], pthreads: [2000, 200] },
      moduleLatency: [20, 3], cpuMs: 200,
      seq: { bt: 5000, worker: 30, immediate: 100000, python: 5000, pthreads: 10000 },
      inflight: { bt: 20000, worker: 200, immediate: 200000, python: 10000, pthreads: 20000 },
      alive: [1000, 10000], workerAlive: { 1000: 50, 10000: 100 }, lagIdle: 1000, workerIdle: 100,
    };
if (opts.rounds) C.rounds = C.rssRounds = C.lagRounds = Number(opts.rounds);
const IN_FLIGHT = 100;
const STACK_64K = 65536;

const PEERS = [
  { id: 'bt', label: 'background-thread', kind: 'node', script: 'background-thread.mjs' },
  { id: 'worker', label: 'worker_threads', kind: 'node', script: 'worker-threads.mjs' },
  { id: 'immediate', label: 'setImmediate', kind: 'node', script: 'set-immediate.mjs' },
  { id: 'python', label: 'Python threading', kind: 'python', script: 'threading_peer.py' },
  { id: 'pthreads', label: 'pthreads (C)', kind: 'c', script: 'pthreads.c' },
];

const na = (reason) => ({ na: reason });
const noThread = na('no thread');
const noLoop = na('no event loop');

function latencyParams(peer) {
  const [n, warmup] = C.latency[peer];
  return { metric: 'latency', n, warmup };
}
const thr = (n, inFlight) => ({ metric: 'throughput', n, inFlight, warmup: Math.max(1, Math.round(n / 10)) });
const k = (n) => (n >= 1000 ? `${n / 1000}k` : String(n));

const JOBS = [
  {
    id: 'latency', rounds: C.rounds, timeout: 120,
    params: Object.fromEntries(PEERS.map((p) => [p.id, latencyParams(p.id)])),
    rows: [
      { id: 'latency', label: 'start -> first line of target', unit: 'µs', better: 'lower', value: (r) => median(r.samples) },
      { id: 'start-call', label: 'time inside the start() call', unit: 'µs', better: 'lower', value: (r) => median(r.startCall) },
    ],
  },
  {
    id: 'seq', rounds: C.rounds, timeout: 120,
    params: Object.fromEntries(PEERS.map((p) => [p.id, thr(C.seq[p.id], 1)])),
    rows: [{ id: 'seq', label: 'start+join, sequential', unit: 'threads/s', better: 'higher', value: (r) => r.perSecond }],
  },
  {
    id: 'inflight', rounds: C.rounds, timeout: 180,
    params: Object.fromEntries(PEERS.map((p) => [p.id, thr(C.inflight[p.id], IN_FLIGHT)])),
    rows: [{ id: 'inflight', label: `start+join, ${IN_FLIGHT} in flight`, unit: 'threads/s', better: 'higher', value: (r) => r.perSecond }],
  },
  // Module targets ({ module, export }): each is a Worker. The worker_threads column runs the same
  // module's same export in a plain Worker (peers/plain-worker.mjs): what our layer adds to one.
  {
    id: 'module', rounds: C.rounds, timeout: 120,
    params: {
      bt: { metric: 'module-latency', n: C.moduleLatency[0], warmup: C.moduleLatency[1] },
      worker: { metric: 'module-latency', n: C.moduleLatency[0], warmup: C.moduleLatency[1] },
      immediate: na('no isolate'),
      python: na('no isolate'),
      pthreads: na('no isolate'),
    },
    rows: [
      { id: 'module-latency', label: 'module target: start -> first line of the export', unit: 'µs', better: 'lower', value: (r) => median(r.samples) },
      { id: 'module-start-call', label: 'module target: time inside start()', unit: 'µs', better: 'lower', value: (r) => median(r.startCall) },
      { id: 'module-seq', label: 'module target: start+join, sequential', unit: 'threads/s', better: 'higher', value: (r) => r.perSecond },
    ],
  },
  // CPU-bound work, two threads of C.cpuMs each: one after the other on one thread, then at once.
  {
    id: 'cpu', rounds: C.rounds, timeout: 120,
    params: {
      bt: { metric: 'cpu', ms: C.cpuMs },
      worker: { metric: 'cpu', ms: C.cpuMs },
      immediate: na('no threads'),
      python: { metric: 'cpu', ms: C.cpuMs },
      pthreads: { metric: 'cpu', ms: C.cpuMs },
    },
    rows: [
      { id: 'cpu-serial', label: `CPU-bound 2 x ${C.cpuMs} ms, one after the other: wall`, unit: 'ms', better: 'lower', value: (r) => r.serialMs },
      { id: 'cpu-parallel', label: `CPU-bound 2 x ${C.cpuMs} ms, 2 threads at once: wall`, unit: 'ms', better: 'lower', value: (r) => r.parallelMs },
      { id: 'cpu-speedup', label: 'CPU-bound speed-up: one after the other / at once', unit: 'x', better: 'higher', value: (r) => r.speedup },
    ],
  },
];
for (const stack of [0, STACK_64K]) {
  for (const alive of C.alive) {
    const id = `rss-${k(alive)}-${stack ? '64k' : 'default'}`;
    const rss = (a, warmup) => ({ metric: 'rss', alive: a, stack, warmup });
    const workerAlive = C.workerAlive[alive];
    JOBS.push({
      id, rounds: C.rssRounds, timeout: 300,
      params: {
        bt: rss(alive, 20),
        worker: stack
          ? na('no boot below 0.5 MiB stack')
          : { ...rss(workerAlive, 2), note: `@${workerAlive}` },
        immediate: noThread,
        python: rss(alive, 20),
        pthreads: rss(alive, 20),
      },
      rows: [{
        id, label: `RSS/thread, ${alive.toLocaleString('en-US')} alive, ${stack ? '64 KiB' : 'default'} stack`,
        unit: 'KiB', better: 'lower', value: (r) => r.perThreadKiB,
      }],
    });
  }
}
for (const idle of [0, C.lagIdle]) {
  const id = `lag-${k(idle)}`;
  const lag = (n) => ({ metric: 'lag', idle: n, seconds: C.lagSeconds });
  const what = `${idle.toLocaleString('en-US')} idle`;
  JOBS.push({
    id, rounds: C.lagRounds, timeout: C.lagSeconds + 180,
    params: {
      bt: lag(idle),
      worker: idle ? { ...lag(C.workerIdle), note: `@${C.workerIdle}` } : lag(0),
      immediate: na('no threads'),
      python: noLoop,
      pthreads: noLoop,
    },
    rows: [
      { id: `${id}-p50`, label: `event-loop lag p50, ${what}`, unit: 'ms', better: 'lower', value: (r) => r.p50 },
      { id: `${id}-p99`, label: `event-loop lag p99, ${what}`, unit: 'ms', better: 'lower', value: (r) => r.p99 },
    ],
  });
}
const only = opts.only ? new Set(opts.only.split(',')) : null;
const jobs = only ? JOBS.filter((j) => only.has(j.id)) : JOBS;
if (!jobs.length || !(C.rounds >= 1)) {
  process.stderr.write(`usage: node bench/run.mjs [--quick] [--rounds N>=1] [--only ${JOBS.map((j) => j.id).join(',')}] [--out DIR]\n`);
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------
// Machine and tools.
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
  const python = tryRun('python3', ['--version']);
  const cc = tryRun(process.env.CC || 'cc', ['--version'])?.split('\n')[0] ?? null;
  return {
    cpu: model.trim(),
    cores: os.availableParallelism?.() ?? os.cpus().length,
    memGiB: Math.round(os.totalmem() / 2 ** 30 * 10) / 10,
    os: `${release}, ${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    python,
    cc,
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
  return { machine: (user + nice + system + irq + softirq + steal) / hz, ours: (own[11] + own[12] + own[13] + own[14]) / hz };
}

function addonInfo() {
  const file = join(root, 'build/Release/background_thread.node');
  const mtime = existsSync(file) ? statSync(file).mtime.toISOString() : null;
  const commit = tryRun('git', ['-C', root, 'rev-parse', '--short', 'HEAD']);
  const dirty = tryRun('git', ['-C', root, 'status', '--porcelain', '--', 'native', 'src']);
  return { commit, dirtySources: Boolean(dirty), addon: existsSync(file) ? 'build/Release/background_thread.node' : 'prebuild', addonMtime: mtime };
}

// ---------------------------------------------------------------------------------------------
// Children.
let current = null;  // the running child, killed on SIGINT/SIGTERM
let tmp = null;      // where pthreads.c is compiled
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (current) current.kill('SIGKILL');
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    process.stderr.write(`\nbench: ${signal}, stopped\n`);
    process.exit(130);
  });
}

function runChild(cmd, args, timeoutSeconds) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    current = child;
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); err += `\ntimed out after ${timeoutSeconds} s`; }, timeoutSeconds * 1000);
    child.on('error', (e) => { clearTimeout(timer); current = null; reject(e); });
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
      : p.metric === 'cpu' ? [p.ms]
        : [p.alive, p.stack, p.warmup];
  return [tools.pthreads, [p.metric, ...args.map(String)]];
}

// ---------------------------------------------------------------------------------------------
// Peers' availability: python3 and a C compiler are optional.
function setUpTools(tmp) {
  const tools = {};
  const missing = {};
  if (tryRun('python3', ['-c', 'import threading, json'] ) === null) missing.python = 'python3 not found';
  const cc = process.env.CC || 'cc';
  const exe = join(tmp, 'pthreads');
  try {
    execFileSync(cc, ['-O2', '-pthread', '-o', exe, join(here, 'peers', 'pthreads.c')], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    tools.pthreads = exe;
  } catch (e) {
    missing.pthreads = e.code === 'ENOENT' ? `no C compiler (${cc})` : `${cc} failed: ${String(e.stderr ?? e.message).split('\n')[0]}`;
  }
  return { tools, missing };
}

async function preflight() {
  const code = `import { BackgroundThread } from 'background-thread'; const t = new BackgroundThread({ target: () => {} }); t.start(); if (!(await t.join(10))) process.exit(1); console.log('{}');`;
  try {
    await runChild(process.execPath, ['--input-type=module', '-e', code], 60);
  } catch (e) {
    process.stderr.write(`bench: background-thread does not load or run (${e.message}).\nBuild it first: npm run compile\n`);
    process.exit(1);
  }
}

// ---------------------------------------------------------------------------------------------
tmp = mkdtempSync(join(os.tmpdir(), 'bgt-bench-'));
const { tools, missing } = setUpTools(tmp);
const info = machine();
const buildBefore = addonInfo();
await preflight();
const cpuBefore = cpuTimes();
const loadBefore = os.loadavg()[0];

/** results[jobId][peerId] = { params, rounds: [{ round, seconds, result } | { round, error }] } */
const results = {};
const totalRounds = Math.max(...jobs.map((j) => j.rounds));
const progress = (s) => process.stderr.write(s);
progress(`bench: ${quick ? 'quick' : 'full'} run, ${totalRounds} rounds, ${jobs.length} measurements x ${PEERS.length} peers, each in a fresh process\n`);

for (let round = 0; round < totalRounds; round++) {
  const order = PEERS.map((_, i) => PEERS[(i + round) % PEERS.length]);  // rotate: no peer always goes first
  progress(`round ${round + 1}/${totalRounds}:`);
  for (const job of jobs) {
    if (round >= job.rounds) continue;
    results[job.id] ??= {};
    for (const peer of order) {
      const params = job.params[peer.id];
      const slot = (results[job.id][peer.id] ??= { params, rounds: [] });
      if (!params || params.na || missing[peer.id]) continue;
      const [cmd, args] = command(peer, params, tools);
      const t0 = performance.now();
      let entry;
      for (let attempt = 1; attempt <= 2; attempt++) {
        try {
          const result = await runChild(cmd, args, job.timeout);
          if (params.metric === 'rss' && !(result.tasks >= params.alive)) throw new Error(`${result.tasks} OS threads for ${params.alive} alive`);
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
const buildAfter = addonInfo();
const cpuAfter = cpuTimes();
const wall = (performance.now() - began) / 1000;
// Other processes' share of the machine's CPUs while we measured (0..1): the bench is only as
// clean as this is low.
const otherLoad = cpuBefore && cpuAfter
  ? Math.max(0, ((cpuAfter.machine - cpuBefore.machine) - (cpuAfter.ours - cpuBefore.ours)) / (wall * info.cores))
  : null;

// ---------------------------------------------------------------------------------------------
// Cells: median (min-max) over rounds.
const rows = [];
for (const job of jobs) {
  for (const row of job.rows) {
    const cells = {};
    for (const peer of PEERS) {
      const slot = results[job.id]?.[peer.id];
      const params = job.params[peer.id];
      if (missing[peer.id]) { cells[peer.id] = { na: missing[peer.id] }; continue; }
      if (!params || params.na) { cells[peer.id] = { na: params?.na ?? 'not measured' }; continue; }
      const ok = slot.rounds.filter((r) => r.result);
      const values = ok.map((r) => row.value(r.result));
      if (!values.length) { cells[peer.id] = { na: `failed: ${slot.rounds[0]?.error ?? 'no result'}`, failed: true }; continue; }
      cells[peer.id] = { ...summarize(values), values, rounds: values.length, note: params.note, errors: slot.rounds.length - ok.length };
    }
    rows.push({ id: row.id, job: job.id, label: row.label, unit: row.unit, better: row.better, cells });
  }
}
const rowById = Object.fromEntries(rows.map((r) => [r.id, r]));
const val = (rowId, peer) => rowById[rowId]?.cells[peer]?.median;

// ---------------------------------------------------------------------------------------------
// Table.
const cellText = (c) => {
  if (!c) return '';
  if (c.na) return `n/a: ${c.na}`;
  const range = c.rounds > 1 ? ` (${fmt(c.min)}-${fmt(c.max)})` : '';
  return `${fmt(c.median)}${range}${c.note ? ` ${c.note}` : ''}${c.errors ? ' !' : ''}`;
};
const header = ['', ...PEERS.map((p) => p.label)];
const body = rows.map((r) => [`${r.label} (${r.unit})`, ...PEERS.map((p) => cellText(r.cells[p.id]))]);
const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
const line = (cols) => cols.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
const seconds = (performance.now() - began) / 1000;

const machineLine = `machine: ${info.cpu}, ${info.cores} cores, ${info.memGiB} GiB RAM; ${info.os}; node ${info.node}; ${info.python ?? 'no python3'}; ${info.cc ?? 'no cc'}; stack rlimit ${info.stackRlimitKiB ?? '?'} KiB`;
const out = [];
out.push(`background-thread benchmarks (${quick ? 'quick' : 'full'}: ${totalRounds} rounds; cells: median (min-max) over rounds)`);
out.push(machineLine);
out.push(`package: commit ${buildBefore.commit ?? '?'}${buildBefore.dirtySources ? ' (+ uncommitted native/src changes)' : ''}, addon ${buildBefore.addon} built ${buildBefore.addonMtime ?? '?'}`);
out.push('');
out.push(line(header));
out.push(widths.map((w) => '-'.repeat(w)).join('  '));
for (const b of body) out.push(line(b));
out.push('');
const workerAliveNote = Object.entries(C.workerAlive).map(([a, w]) => `${w} for the ${Number(a).toLocaleString('en-US')} row`).join(', ');
out.push(`@N: worker_threads measured with N Workers alive/idle (${workerAliveNote}; lag: ${C.workerIdle}); a Worker is an isolate + event loop, ~8 MiB each.`);
out.push(`latency rows: per round, the median of ${Object.entries(C.latency).map(([p, [n]]) => `${n} (${p})`).join(', ')} samples; RSS rounds: ${C.rssRounds}, lag rounds: ${C.lagRounds} x ${C.lagSeconds} s (1 ms timer chain).`);
if (jobs.some((j) => j.id === 'module')) {
  out.push(`module target rows: per round, the median of ${C.moduleLatency[0]} starts, one at a time; background-thread: new BackgroundThread({ target: { module, export } }); worker_threads: new Worker(peers/plain-worker.mjs), which imports the same module (peers/module-work.mjs) and calls the same export.`);
}
if (jobs.some((j) => j.id === 'cpu')) {
  out.push(`CPU-bound rows: 2 runs of a loop calibrated in each child to ~${C.cpuMs} ms on its main thread (peers/module-work.mjs spin; the same xorshift loop in Python and C), first one after the other, then in 2 threads at once. background-thread: 2 event-loop targets (they share the loop: one runs after the other), then 2 module targets; worker_threads: 2 calls on the main thread, then 2 plain Workers; Python: 2 calls, then 2 threading.Threads; pthreads: 2 calls, then 2 pthreads (what the machine allows).`);
}
if (rows.some((r) => Object.values(r.cells).some((c) => c.errors))) out.push('!: some rounds of that cell failed (see results.json); the cell uses the others.');

// Ratios that matter.
const ratio = (a, b, better) => {
  if (!(a > 0) || !(b > 0)) return 'n/a';
  const x = better === 'lower' ? b / a : a / b;  // > 1: background-thread is better
  return x >= 1 ? `${fmt(x)}x ${better === 'lower' ? 'faster' : 'more'}` : `${fmt(1 / x)}x ${better === 'lower' ? 'slower' : 'less'}`;
};
const ratios = [];
const cmp = (rowId, peer, unit) => {
  const a = val(rowId, 'bt');
  const b = val(rowId, peer);
  const row = rowById[rowId];
  if (!row || !(a > 0) || !(b > 0)) return `vs ${PEERS.find((p) => p.id === peer).label}: n/a`;
  return `vs ${PEERS.find((p) => p.id === peer).label} ${fmt(b)}${unit.startsWith('/') ? '' : ' '}${unit}: ${ratio(a, b, row.better)}`;
};
if (rowById.latency) {
  ratios.push(`start -> target: background-thread ${fmt(val('latency', 'bt'))} µs (${fmt(val('start-call', 'bt'))} of them inside the start() call); ${cmp('latency', 'worker', 'µs')}; ${cmp('latency', 'python', 'µs')}; ${cmp('latency', 'pthreads', 'µs')}; floor (setImmediate) ${fmt(val('latency', 'immediate'))} µs`);
}
if (rowById.inflight) {
  ratios.push(`start+join, ${IN_FLIGHT} in flight: background-thread ${fmt(val('inflight', 'bt'))}/s; ${cmp('inflight', 'python', '/s')}; ${cmp('inflight', 'pthreads', '/s')}; ${cmp('inflight', 'worker', '/s')}`);
}
if (rowById.seq) {
  ratios.push(`start+join, sequential: background-thread ${fmt(val('seq', 'bt'))}/s; ${cmp('seq', 'python', '/s')}; ${cmp('seq', 'pthreads', '/s')}`);
}
/** Median over rounds of fn(result) for one cell's raw results. */
const rawMedian = (jobId, peer, fn) => {
  const xs = (results[jobId]?.[peer]?.rounds ?? []).filter((r) => r.result).map((r) => fn(r.result));
  return xs.length ? median(xs) : NaN;
};
const signed = (x) => `${x >= 0 ? '+' : ''}${fmt(x)}`;
if (rowById['module-latency']) {
  const m = val('module-latency', 'bt');
  const w = val('module-latency', 'worker');
  const f = val('latency', 'bt');
  const joinAfter = (p) => rawMedian('module', p, (r) => median(r.joined.map((j, i) => j - r.samples[i])));
  const seqBt = val('module-seq', 'bt');
  const seqWorker = val('module-seq', 'worker');
  ratios.push(`module target start -> export: background-thread ${fmt(m)} µs (${fmt(val('module-start-call', 'bt'))} of them inside start()); vs a plain Worker running the same export ${fmt(w)} µs: ${ratio(m, w, 'lower')} (${m > 0 && w > 0 ? signed(m - w) : '?'} µs: background-thread's layer)${f > 0 && m > 0 ? `; vs an event-loop target ${fmt(f)} µs: ${fmt(m / f)}x slower` : ''}; the export's first line -> join() resolved ${fmt(joinAfter('bt'))} µs (plain Worker: -> 'exit' ${fmt(joinAfter('worker'))} µs); start+join, sequential: ${fmt(seqBt)}/s vs ${fmt(seqWorker)}/s: ${ratio(seqBt, seqWorker, 'higher')}`);
}
if (rowById['cpu-speedup']) {
  const sp = (p) => val('cpu-speedup', p);
  const x = (v) => (v > 0 ? `${fmt(v)}x` : 'n/a');
  // When the later of the two parallel runs began (ms after the first start): the thread's start cost.
  const began = (p) => rawMedian('cpu', p, (r) => Math.max(...r.parallel.map((q) => q.beganMs)));
  const work = (p) => rawMedian('cpu', p, (r) => median(r.parallel.map((q) => q.workMs)));
  ratios.push(`CPU-bound 2 x ${C.cpuMs} ms, speed-up of 2 threads at once over one after the other: module targets ${x(sp('bt'))} (2 event-loop targets ${fmt(val('cpu-serial', 'bt'))} ms -> 2 module targets ${fmt(val('cpu-parallel', 'bt'))} ms; the exports began ${fmt(began('bt'))} ms after the first start() and ran ${fmt(work('bt'))} ms each); plain Workers ${x(sp('worker'))} (began after ${fmt(began('worker'))} ms, ran ${fmt(work('worker'))} ms); Python threading ${x(sp('python'))} (one GIL); pthreads (C) ${x(sp('pthreads'))} (what the machine allows)`);
}
for (const alive of C.alive) {
  const id = `rss-${k(alive)}-64k`;
  if (!rowById[id]) continue;
  const bt = val(id, 'bt');
  const parts = ['pthreads', 'python'].map((p) => {
    const v = val(id, p);
    return v > 0 && bt > 0 ? `${PEERS.find((x) => x.id === p).label} ${fmt(v)} KiB (background-thread ${bt >= v ? '+' : ''}${fmt(bt - v)} KiB, ${fmt(bt / v)}x)` : `${p}: n/a`;
  });
  ratios.push(`RSS/thread, 64 KiB stack, ${alive.toLocaleString('en-US')} alive: background-thread ${fmt(bt)} KiB; ${parts.join('; ')}`);
}
// Marginal RSS per thread between the two counts: what one more thread costs, without the fixed
// costs (heap growth, allocator arenas) that the smaller count spreads over fewer threads.
if (C.alive.length === 2) {
  const [lo, hi] = C.alive;
  for (const stack of ['default', '64k']) {
    const a = `rss-${k(lo)}-${stack}`;
    const b = `rss-${k(hi)}-${stack}`;
    if (!rowById[a] || !rowById[b]) continue;
    const marginal = (p) => (val(b, p) * hi - val(a, p) * lo) / (hi - lo);
    const parts = ['bt', 'python', 'pthreads'].map((p) => `${PEERS.find((x) => x.id === p).label} ${fmt(marginal(p))} KiB`);
    ratios.push(`RSS per additional thread (${k(lo)} -> ${k(hi)} alive, ${stack === '64k' ? '64 KiB' : 'default'} stack): ${parts.join('; ')}`);
  }
}
const lagIdleId = `lag-${k(C.lagIdle)}`;
if (rowById[`${lagIdleId}-p99`] && rowById['lag-0-p99']) {
  const d = (peer) => val(`${lagIdleId}-p99`, peer) - val('lag-0-p99', peer);
  const sign = (x) => (Number.isNaN(x) ? '?' : `${x >= 0 ? '+' : ''}${x.toFixed(3)}`);
  ratios.push(`event-loop lag p99, idle vs none: background-thread ${C.lagIdle.toLocaleString('en-US')} idle threads ${sign(d('bt'))} ms (${fmt(val('lag-0-p99', 'bt'))} -> ${fmt(val(`${lagIdleId}-p99`, 'bt'))}); worker_threads ${C.workerIdle} idle Workers ${sign(d('worker'))} ms (${fmt(val('lag-0-p99', 'worker'))} -> ${fmt(val(`${lagIdleId}-p99`, 'worker'))})`);
}
out.push('');
out.push('ratios (medians; "faster"/"more" = background-thread is better):');
for (const r of ratios) out.push(`  ${r}`);
if (otherLoad !== null && otherLoad > 0.1) {
  out.push(`WARNING: other processes used ${Math.round(otherLoad * 100)}% of the ${info.cores} CPUs during the run (load average ${loadBefore.toFixed(1)} at the start); figures are noisier and slower than on an idle machine.`);
}
if (buildAfter.addonMtime !== buildBefore.addonMtime) out.push(`WARNING: the addon was rebuilt during the run (${buildBefore.addonMtime} -> ${buildAfter.addonMtime}); figures mix two builds.`);
out.push('');
out.push(`run time: ${seconds.toFixed(1)} s${otherLoad !== null ? `; other processes' CPU share during the run: ${Math.round(otherLoad * 100)}%` : ''}`);
process.stdout.write(`${out.join('\n')}\n`);

// ---------------------------------------------------------------------------------------------
// results.json and chart.svg.
// Only a complete full run writes results.json / chart.svg (the committed figures).
const suffix = quick ? '-quick' : opts.only || opts.rounds ? '-partial' : '';
const report = {
  schema: 1,
  date: new Date().toISOString(),
  mode: quick ? 'quick' : 'full',
  runSeconds: Math.round(seconds * 10) / 10,
  machine: info,
  machineLine,
  package: buildBefore,
  rebuiltDuringRun: buildAfter.addonMtime !== buildBefore.addonMtime,
  otherProcessesCpuShare: otherLoad === null ? null : Math.round(otherLoad * 1000) / 1000,
  loadAverageAtStart: loadBefore,
  config: C,
  peers: PEERS.map((p) => ({ id: p.id, label: p.label, available: !missing[p.id], reason: missing[p.id] ?? null })),
  rows: rows.map((r) => ({ ...r, cells: Object.fromEntries(Object.entries(r.cells).map(([p, c]) => [p, c])) })),
  ratios,
  raw: results,
};
const resultsFile = join(opts.out, `results${suffix}.json`);
const chartFile = join(opts.out, `chart${suffix}.svg`);
writeFileSync(resultsFile, `${compactJson(report)}\n`);
writeFileSync(chartFile, renderChart(report));
process.stdout.write(`wrote ${resultsFile.replace(`${root}/`, '')} and ${chartFile.replace(`${root}/`, '')}\n`);

/** JSON with indentation, but arrays of numbers on one line (the raw samples). */
function compactJson(value) {
  return JSON.stringify(value, null, 1).replace(/\[\s*(-?[\d.e+-]+(?:,\s*-?[\d.e+-]+)*)\s*\]/g, (_, xs) => `[${xs.replace(/\s+/g, '')}]`);
}
