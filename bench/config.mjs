// What the bench measures: the peers, the counts of a full and a quick run, and the jobs (one
// child process per peer per round) with the rows each job's results give. Pure data and small
// functions: runner.mjs runs the jobs, report.mjs turns their results into cells and ratios.
//
// A job's params say what one child of a peer measures (see peers/common.mjs for the protocol);
// { na: reason } means that peer cannot take part in the job. A row's value(result) turns one
// child's result into the round's value; a cell is the median (min-max) of those over rounds:
//   latency      a round's value is the median of its N samples (µs)
//   throughput   a round's value is N / elapsed for that round (threads/s)
//   RSS          (VmRSS with the threads alive - VmRSS before) / alive, per round (KiB)
//   lag          p50 / p99 of a round's event-loop lag samples (ms)
//   module       module targets ({ module, export }), isolate: 'fresh' (a new Worker each) against
//                a plain Worker running the same export (peers/plain-worker.mjs): the median of a
//                round's N starts (µs), and N / elapsed for those N sequential start+joins
//                (threads/s)
//   warm         the same with warm isolates (the default policy, after a warm-up), against
//                piscina's tasks on a warm pool (peers/piscina.mjs) and a fresh plain Worker
//   warm-inflight(-cap)  start+join of an empty export, 100 in flight (threads/s): the default
//                policy after a warm-up burst, or setIsolatePool({ maxIsolates: cores }); piscina
//   cpu, cpu8    `tasks` runs of a CPU-bound loop (~ms each, calibrated in the child), one after
//                the other, then in `tasks` threads at once: the round's wall times (ms), their
//                ratio (the speed-up, x) and wall / ideal (x), ideal = serial / min(cores, tasks).
//                background-thread: event-loop targets, then module targets (warm, after warm-up)
//   idle-pool    RSS per idle isolate (KiB) once N module threads / piscina tasks ran at once and
//                ended; worker_threads: RSS per live Worker, the cost of a fresh one
//   app-cost     the cost to the application beside the package (background-thread only): CPU
//                ns per await and an http server's requests per CPU second with nothing loaded;
//                measured again in the same process once each mode (nothing, imported, one
//                thread run, one daemon thread run) is applied: after / before, each mode's over
//                nothing's (x), per Node major (scripts/node-binaries.mjs for the others)
//   remote       remote threads (background-thread only; peers/remote.mjs): a child with its own
//                redis-server and 2 worker processes; start -> the export's first line, one at a
//                time (µs), and start+join, 100 in flight (jobs/s), against module targets of the
//                same child and against BullMQ alone (Queue.add -> a plain Worker's processor);
//                cancel() -> join() of a running job against the worker's own Worker.cancelJob()
// A peer's child may answer { na: reason } (the baseline build without warm isolates): n/a cells.
import os from 'node:os';
import { median } from './stats.mjs';

export const IN_FLIGHT = 100;
const STACK_64K = 65536;

/** The peer whose figures the ratios are about. */
export const US = 'bt';

export const PEERS = [
  { id: 'bt', label: 'background-thread', kind: 'node', script: 'background-thread.mjs' },
  { id: 'worker', label: 'worker_threads', kind: 'node', script: 'worker-threads.mjs' },
  { id: 'piscina', label: 'piscina', kind: 'node', script: 'piscina.mjs' },
  { id: 'immediate', label: 'setImmediate', kind: 'node', script: 'set-immediate.mjs' },
  { id: 'python', label: 'Python threading', kind: 'python', script: 'threading_peer.py' },
  { id: 'pthreads', label: 'pthreads (C)', kind: 'c', script: 'pthreads.c' },
];

/**
 * --baseline DIR: the same peer script as background-thread, importing the package built in DIR
 * (another checkout), measured with bt's params; placed right after bt so they sit side by side.
 */
export function withBaseline(peers, dir) {
  if (!dir) return peers;
  const baseline = { id: 'baseline', label: 'background-thread (baseline)', kind: 'node', script: 'background-thread.mjs', package: dir, paramsOf: 'bt' };
  const i = peers.findIndex((p) => p.id === 'bt');
  return [...peers.slice(0, i + 1), baseline, ...peers.slice(i + 1)];
}

/**
 * Counts, full and quick. Worker counts are far lower: a Worker is an isolate and an event loop.
 * Quick: 3 rounds of latency, throughput, module targets and CPU-bound work, 1 round of RSS
 * (1,000 alive only), of lag (1 s) and of the isolate-pool jobs (poolRounds: warm-inflight,
 * warm-inflight-cap, cpu8). latency: [samples, warm-up] per peer; moduleLatency: [samples,
 * warm-up] of fresh module-target starts (a Worker each, for both peers); warmLatency: the same
 * per peer for the warm row; warmInflight: start+joins per peer (the warm-up: a tenth, at least
 * 2 x 100); cpuMs: the work each of the two CPU-bound threads does (calibrated in each child);
 * cpu8: [tasks, ms each]; idlePool: the module threads whose isolates then idle; cores: the
 * machine's availableParallelism() (piscina's maxThreads, the cap, the ideal CPU-bound wall).
 * remote: [samples, warm-up] of each one-at-a-time row, the start+joins of each 100-in-flight row
 * (the warm-up: a tenth, at least 2 x 100), and the worker processes (each runWorker's default
 * concurrency, the cores).
 */
export function counts({ quick, rounds }) {
  const C = quick
    ? {
      rounds: 3, rssRounds: 1, lagRounds: 1, lagSeconds: 1,
      latency: {
        bt: [300, 100], worker: [8, 2], immediate: [1000, 200], python: [300, 50],
        pthreads: [1000, 100],
      },
      moduleLatency: [8, 2], cpuMs: 100, poolRounds: 1,
      warmLatency: { bt: [200, 20], piscina: [200, 20], worker: [8, 2] },
      warmInflight: { bt: 5000, piscina: 5000 }, cpu8: [8, 50], idlePool: 8,
      control: { n: 20, reports: 100000 },
      appCost: {
        nodes: [20, 24], awaits: 200000, runs: 5, requests: 5000, concurrency: 16, threads: 2000,
      },
      remote: { latency: [50, 10], jobs: 1000, workers: 2 },
      seq: { bt: 2000, worker: 10, immediate: 20000, python: 2000, pthreads: 5000 },
      inflight: { bt: 5000, worker: 100, immediate: 50000, python: 3000, pthreads: 10000 },
      alive: [1000], workerAlive: { 1000: 20 }, lagIdle: 1000, workerIdle: 50,
    }
    : {
      rounds: 5, rssRounds: 5, lagRounds: 5, lagSeconds: 3,
      latency: {
        bt: [1000, 200], worker: [20, 3], immediate: [2000, 500], python: [1000, 200],
        pthreads: [2000, 200],
      },
      moduleLatency: [20, 3], cpuMs: 200, poolRounds: 5,
      warmLatency: { bt: [1000, 100], piscina: [1000, 100], worker: [20, 3] },
      warmInflight: { bt: 20000, piscina: 20000 }, cpu8: [8, 50], idlePool: 8,
      control: { n: 50, reports: 100000 },
      appCost: {
        nodes: [20, 24], awaits: 1000000, runs: 5, requests: 30000, concurrency: 16, threads: 10000,
      },
      remote: { latency: [300, 30], jobs: 5000, workers: 2 },
      seq: { bt: 5000, worker: 30, immediate: 100000, python: 5000, pthreads: 10000 },
      inflight: { bt: 20000, worker: 200, immediate: 200000, python: 10000, pthreads: 20000 },
      alive: [1000, 10000], workerAlive: { 1000: 50, 10000: 100 }, lagIdle: 1000, workerIdle: 100,
    };
  if (rounds) C.rounds = C.rssRounds = C.lagRounds = C.poolRounds = Number(rounds);
  C.cores = os.availableParallelism();
  return C;
}

const na = (reason) => ({ na: reason });
const noThread = na('no thread');
const noLoop = na('no event loop');
const noIsolate = na('no isolate');
const tasksOnly = na('runs module tasks: see the module-target rows');
const thr = (n, inFlight) => ({ metric: 'throughput', n, inFlight, warmup: Math.max(1, Math.round(n / 10)) });
export const k = (n) => (n >= 1000 ? `${n / 1000}k` : String(n));
const byPeer = (fn) => Object.fromEntries(PEERS.map((p) => [p.id, p.id === 'piscina' ? tasksOnly : fn(p.id)]));
const warmThr = (n, cap) => ({ metric: 'module-throughput', n, inFlight: IN_FLIGHT, warmup: Math.max(2 * IN_FLIGHT, Math.round(n / 10)), ...(cap ? { cap } : {}) });
// wall / ideal, ideal = the serial wall spread over the cores (a result of before C.cores: none).
const overIdeal = (C) => (r) => {
  if (!C.cores) throw new Error('no cores in this config');
  return r.parallelMs / (r.serialMs / Math.min(C.cores, r.tasks ?? 2));
};

/** The jobs for counts C, in the order they run within a round. */
export function jobsFor(C) {
  const jobs = [
    {
      id: 'latency', rounds: C.rounds, timeout: 120,
      params: byPeer((p) => ({ metric: 'latency', n: C.latency[p][0], warmup: C.latency[p][1] })),
      rows: [
        { id: 'latency', label: 'start -> first line of target', unit: 'µs', better: 'lower', value: (r) => median(r.samples) },
        { id: 'start-call', label: 'time inside the start() call', unit: 'µs', better: 'lower', value: (r) => median(r.startCall) },
      ],
    },
    {
      id: 'seq', rounds: C.rounds, timeout: 120,
      params: byPeer((p) => thr(C.seq[p], 1)),
      rows: [{ id: 'seq', label: 'start+join, sequential', unit: 'threads/s', better: 'higher', value: (r) => r.perSecond }],
    },
    {
      id: 'inflight', rounds: C.rounds, timeout: 180,
      params: byPeer((p) => thr(C.inflight[p], IN_FLIGHT)),
      rows: [{ id: 'inflight', label: `start+join, ${IN_FLIGHT} in flight`, unit: 'threads/s', better: 'higher', value: (r) => r.perSecond }],
    },
    // Module targets ({ module, export }), fresh: a new Worker each (isolate: 'fresh'; a build
    // without warm isolates has only those). The worker_threads column runs the same module's
    // same export in a plain Worker (peers/plain-worker.mjs): what our layer adds.
    {
      id: 'module', rounds: C.rounds, timeout: 120,
      params: {
        bt: { metric: 'module-latency', n: C.moduleLatency[0], warmup: C.moduleLatency[1], isolate: 'fresh' },
        worker: { metric: 'module-latency', n: C.moduleLatency[0], warmup: C.moduleLatency[1] },
        piscina: na('a warm pool only: see the warm rows'),
        immediate: noIsolate,
        python: noIsolate,
        pthreads: noIsolate,
      },
      rows: [
        { id: 'module-latency', label: 'module target, fresh: start -> first line of the export', unit: 'µs', better: 'lower', value: (r) => median(r.samples) },
        { id: 'module-start-call', label: 'module target, fresh: time inside start()', unit: 'µs', better: 'lower', value: (r) => median(r.startCall) },
        { id: 'module-seq', label: 'module target, fresh: start+join, sequential', unit: 'threads/s', better: 'higher', value: (r) => r.perSecond },
        // From the same samples: how soon the thread ends once its export has run (plain Worker:
        // 'exit').
        { id: 'module-join-after', label: "module target, fresh: export's first line -> join() / 'exit'", unit: 'µs', better: 'lower', value: (r) => median(r.joined.map((j, i) => j - r.samples[i])) },
      ],
    },
    // Warm: the default policy (a warm isolate, left by the warm-up), piscina's pool.run() on a
    // warm pool, and, for scale, a fresh plain Worker again.
    {
      id: 'warm', rounds: C.rounds, timeout: 120,
      params: {
        bt: { metric: 'module-latency', n: C.warmLatency.bt[0], warmup: C.warmLatency.bt[1], isolate: 'warm' },
        worker: { metric: 'module-latency', n: C.warmLatency.worker[0], warmup: C.warmLatency.worker[1], note: '(fresh)' },
        piscina: { metric: 'module-latency', n: C.warmLatency.piscina[0], warmup: C.warmLatency.piscina[1] },
        immediate: noIsolate,
        python: noIsolate,
        pthreads: noIsolate,
      },
      rows: [
        { id: 'warm-latency', label: 'module target, warm: start -> first line of the export', unit: 'µs', better: 'lower', value: (r) => median(r.samples) },
        { id: 'warm-start-call', label: 'module target, warm: time inside start() / run()', unit: 'µs', better: 'lower', value: (r) => median(r.startCall) },
        { id: 'warm-seq', label: 'module target, warm: start+join, sequential', unit: 'threads/s', better: 'higher', value: (r) => r.perSecond },
      ],
    },
    // Start+join of the empty export, 100 in flight, warm: the default policy (maxIsolates
    // Infinity: the warm-up burst leaves ~100 isolates), then capped at the cores as piscina is.
    ...[false, true].map((cap) => ({
      id: cap ? 'warm-inflight-cap' : 'warm-inflight', rounds: C.poolRounds, timeout: 180,
      params: {
        bt: warmThr(C.warmInflight.bt, cap),
        worker: na(cap ? 'no pool to cap' : 'a Worker each: see start+join, 100 in flight'),
        piscina: warmThr(C.warmInflight.piscina),
        immediate: noIsolate,
        python: noIsolate,
        pthreads: noIsolate,
      },
      rows: [{
        id: cap ? 'warm-inflight-cap' : 'warm-inflight',
        label: `module target, warm${cap ? `, maxIsolates ${C.cores}` : ''}: start+join of an empty export, ${IN_FLIGHT} in flight`,
        unit: 'threads/s', better: 'higher', value: (r) => r.perSecond,
      }],
    })),
    // CPU-bound work, `tasks` threads of `ms` each: one after the other on one thread, then at
    // once.
    ...[[2, C.cpuMs, 'cpu', C.rounds], [C.cpu8[0], C.cpu8[1], 'cpu8', C.poolRounds]].map(([tasks, ms, id, rounds]) => {
      const cpu = { metric: 'cpu', ms, tasks };
      const what = `CPU-bound ${tasks} x ${ms} ms`;
      return {
        id, rounds, timeout: 120,
        params: { bt: cpu, worker: cpu, piscina: cpu, immediate: na('no threads'), python: cpu, pthreads: cpu },
        rows: [
          { id: `${id}-serial`, label: `${what}, one after the other: wall`, unit: 'ms', better: 'lower', value: (r) => r.serialMs },
          { id: `${id}-parallel`, label: `${what}, all at once: wall`, unit: 'ms', better: 'lower', value: (r) => r.parallelMs },
          ...(tasks === 2 ? [
            { id: 'cpu-speedup', label: 'CPU-bound speed-up: one after the other / at once', unit: 'x', better: 'higher', value: (r) => r.speedup },
            // From the same samples: when the later of the two parallel runs began, i.e. the
            // thread's start cost.
            { id: 'cpu-began', label: 'CPU-bound, 2 threads at once: the later began after', unit: 'ms', better: 'lower', value: (r) => Math.max(...r.parallel.map((q) => q.beganMs)) },
          ] : []),
          { id: `${id}-ideal`, label: `${what} at once: wall / ideal (serial / ${Math.min(C.cores ?? tasks, tasks)} cores)`, unit: 'x', better: 'lower', value: overIdeal(C) },
        ],
      };
    }),
    // Memory of an idle pool: N module threads at once, ended, their isolates idle (maxIdle = N).
    {
      id: 'idle-pool', rounds: C.rssRounds, timeout: 120,
      params: {
        bt: { metric: 'idle-rss', n: C.idlePool },
        worker: { metric: 'rss', alive: C.idlePool, stack: 0, warmup: 2, note: '(live, fresh)' },
        piscina: { metric: 'idle-rss', n: C.idlePool },
        immediate: noIsolate,
        python: noIsolate,
        pthreads: noIsolate,
      },
      rows: [{
        id: 'idle-pool', label: `RSS per idle isolate, ${C.idlePool} module threads ended`,
        unit: 'KiB', better: 'lower', value: (r) => r.perIdleKiB ?? r.perThreadKiB,
      }],
    },
  ];
  for (const stack of [0, STACK_64K]) {
    for (const alive of C.alive) {
      const id = `rss-${k(alive)}-${stack ? '64k' : 'default'}`;
      const rss = (a, warmup) => ({ metric: 'rss', alive: a, stack, warmup });
      const workerAlive = C.workerAlive[alive];
      jobs.push({
        id, rounds: C.rssRounds, timeout: 300,
        params: {
          bt: rss(alive, 20),
          worker: stack ? na('no boot below 0.5 MiB stack') : { ...rss(workerAlive, 2), note: `@${workerAlive}` },
          piscina: na('a pool: see the idle-pool row'),
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
    jobs.push({
      id, rounds: C.lagRounds, timeout: C.lagSeconds + 180,
      params: {
        bt: lag(idle),
        worker: idle ? { ...lag(C.workerIdle), note: `@${C.workerIdle}` } : lag(0),
        piscina: na('a pool: not measured'),
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
  // A results file from before the remote job has no counts for it.
  jobs.push(controlJob(C));
  if (C.remote) jobs.push(remoteJob(C));
  jobs.push(appCostJob(C));
  return jobs;
}

/**
 * Cancellation and progress (peers/control.mjs): 100,000 progress reports from one thread, each
 * to a listener; cancel() -> join() per kind (a function target and a warm module target that
 * observe their signal; a module target that ignores it, terminated at once: cancelGrace 0);
 * piscina's abort of a running task, for scale (it terminates the task's worker).
 */
function controlJob(C) {
  const { n, reports } = C.control;
  const others = Object.fromEntries(PEERS.filter((p) => p.id !== US && p.id !== 'piscina')
    .map((p) => [p.id, na('no cancellation or progress')]));
  const ms = (key) => (r) => median(r[key]);
  return {
    id: 'control', rounds: C.rounds, timeout: 300,
    params: { [US]: { metric: 'control', n, reports }, piscina: { metric: 'control', n }, ...others },
    rows: [
      { id: 'progress-module', label: `progress: ${reports} reports from one module target, each to a listener`, unit: 'reports/s', better: 'higher', value: (r) => r.progressModule.perSecond },
      { id: 'progress-function', label: `progress: ${reports} reports from one function target, each to a listener`, unit: 'reports/s', better: 'higher', value: (r) => r.progressFunction.perSecond },
      { id: 'cancel-function', label: 'cancel() -> join(): function target observing its signal', unit: 'µs', better: 'lower', value: ms('cancelFunction') },
      { id: 'cancel-module', label: 'cancel() -> join(): warm module target observing its signal (piscina: abort -> rejection)', unit: 'µs', better: 'lower', value: (r) => median(r.cancelModule ?? r.abort) },
      { id: 'cancel-terminate', label: 'cancel() -> join(): module target ignoring its signal, cancelGrace 0 (terminated)', unit: 'µs', better: 'lower', value: ms('cancelTerminate') },
    ],
  };
}

/**
 * Remote threads (peers/remote.mjs), in one background-thread child: one at a time with nothing
 * else remote alive (the queue's connections stay open 5 s after its last thread, so these find
 * them open too), then beside a live remote thread; this child's own module
 * targets (warm isolates) and BullMQ alone on the same Redis and workers, for scale.
 */
function remoteJob(C) {
  const { latency: [n, warmup], jobs, workers } = C.remote;
  const bt = { metric: 'remote', n, warmup, jobs, warmupJobs: Math.max(2 * IN_FLIGHT, Math.round(jobs / 10)), inFlight: IN_FLIGHT, workers, concurrency: C.cores };
  const others = Object.fromEntries(PEERS.filter((p) => p.id !== US).map((p) => [p.id, na('background-thread only')]));
  const ms = (key) => (r) => median(r[key].samples);
  const after = (key) => (r) => median(r[key].joined.map((j, i) => j - r[key].samples[i]));
  const remote = `remote thread (${workers} workers)`;
  const inFlight = `start+join of an empty export, ${IN_FLIGHT} in flight`;
  return {
    id: 'remote', rounds: C.rounds, timeout: 300, params: { [US]: bt, ...others },
    rows: [
      { id: 'remote-latency', label: `${remote}: start -> first line of the export, nothing else remote alive`, unit: 'µs', better: 'lower', value: ms('remote') },
      { id: 'remote-live-latency', label: `${remote}: start -> first line of the export, beside a live remote thread`, unit: 'µs', better: 'lower', value: ms('remoteLive') },
      { id: 'remote-local-latency', label: 'module target, warm, same process: start -> first line of the export', unit: 'µs', better: 'lower', value: ms('local') },
      { id: 'remote-bullmq-latency', label: "BullMQ alone, same Redis and workers: Queue.add() -> the processor's first line", unit: 'µs', better: 'lower', value: ms('bullmq') },
      { id: 'remote-enqueued', label: `${remote}: start -> enqueued (Redis took the job), nothing else remote alive`, unit: 'µs', better: 'lower', value: (r) => median(r.remote.enqueued) },
      { id: 'remote-live-enqueued', label: `${remote}: start -> enqueued, beside a live remote thread`, unit: 'µs', better: 'lower', value: (r) => median(r.remoteLive.enqueued) },
      { id: 'remote-live-join-after', label: `${remote}, beside a live one: export's first line -> join()`, unit: 'µs', better: 'lower', value: after('remoteLive') },
      { id: 'remote-bullmq-join-after', label: "BullMQ alone: the processor's first line -> waitUntilFinished()", unit: 'µs', better: 'lower', value: after('bullmq') },
      { id: 'remote-jobs', label: `remote threads, ${workers} workers x concurrency ${C.cores}: ${inFlight}`, unit: 'jobs/s', better: 'higher', value: (r) => r.remoteJobs.perSecond },
      { id: 'remote-local-jobs', label: `module targets, warm, same process: ${inFlight}`, unit: 'threads/s', better: 'higher', value: (r) => r.localJobs.perSecond },
      { id: 'remote-bullmq-jobs', label: `BullMQ alone, same workers: add + waitUntilFinished, ${IN_FLIGHT} in flight`, unit: 'jobs/s', better: 'higher', value: (r) => r.bullmqJobs.perSecond },
      { id: 'remote-cancel', label: `${remote}: cancel() -> join(), the job running and observing its signal`, unit: 'µs', better: 'lower', value: (r) => median(r.remoteCancel) },
      { id: 'remote-bullmq-cancel', label: "BullMQ alone: the worker's own Worker.cancelJob() -> waitUntilFinished() rejects (no cancel from another process)", unit: 'µs', better: 'lower', value: (r) => median(r.bullmqCancel) },
    ],
  };
}

const APP_MODES = {
  imported: 'the package imported', thread: 'one thread run', daemon: 'one daemon thread run',
  traced: 'its TracingChannels subscribed, one thread run',
};

/**
 * What the package costs the application beside it (peers/app-cost.mjs, app.mjs): CPU time per
 * await and an http server's requests per CPU second with nothing loaded; how its speed moved
 * when measured again in the same process with nothing applied (the drift of a second
 * measurement: JIT, heap); and for each mode its own after / before over that drift, per round
 * (x: 1 = no cost; above 0.95 is the goal), per Node major (C.appCost.nodes).
 */
function appCostJob(C) {
  const { nodes, ...load } = C.appCost;
  const others = Object.fromEntries(PEERS.filter((p) => p.id !== US).map((p) => [p.id, na('the app alone: see the nothing-loaded rows')]));
  const rows = [];
  for (const node of nodes) {
    for (const [what, label, unit, better] of [['await', 'CPU ns per await', 'ns', 'lower'], ['http', 'http server', 'requests per CPU second', 'higher']]) {
      const of = (r, mode) => r[node][what][mode];
      rows.push({ id: `app-${what}-${node}-before`, label: `cost to the app, Node ${node}: ${label}, nothing loaded`, unit, better, value: (r) => of(r, 'none').before });
      rows.push({ id: `app-${what}-${node}-none`, label: `cost to the app, Node ${node}: ${label}, measured again, nothing applied: after / before`, unit: 'x', better: 'higher', value: (r) => of(r, 'none').speed });
      for (const [mode, modeLabel] of Object.entries(APP_MODES)) {
        rows.push({ id: `app-${what}-${node}-${mode}`, label: `cost to the app, Node ${node}: ${label}, ${modeLabel}: speed / nothing loaded's`, unit: 'x', better: 'higher', value: (r) => of(r, mode).speed / of(r, 'none').speed });
      }
    }
    // A thread's own CPU cost, unsubscribed (compare it with --baseline), and what subscribed
    // channels add to it.
    const threads = (r) => r[node].threads;
    rows.push({ id: `app-thread-${node}-unsubscribed`, label: `cost of a thread, Node ${node}: CPU ns per start+join, sequential, nobody subscribed`, unit: 'ns', better: 'lower', value: (r) => threads(r).none.before });
    rows.push({ id: `app-thread-${node}-traced`, label: `cost of a thread, Node ${node}: CPU ns a subscribed channel adds per thread (both channels, every event)`, unit: 'ns', better: 'lower', value: (r) => threads(r).traced.after - threads(r).traced.before - (threads(r).none.after - threads(r).none.before) });
  }
  return { id: 'app-cost', rounds: C.rounds, timeout: 900, params: { [US]: { metric: 'app-cost', nodes, ...load }, ...others }, rows };
}

/** The params of `peer` in `job` (the baseline takes bt's). */
export const paramsOf = (job, peer) => job.params[peer.paramsOf ?? peer.id];
