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
//   module       module targets ({ module, export }, a Worker each) against a plain Worker running
//                the same export (peers/plain-worker.mjs): the median of a round's N starts (µs),
//                and N / elapsed for those N sequential start+joins (threads/s)
//   cpu          two runs of a CPU-bound loop (~cpuMs each, calibrated in the child), one after
//                the other, then in two threads at once: the round's wall times (ms) and their
//                ratio, the speed-up (x). background-thread: event-loop targets, then module targets
import { median } from './stats.mjs';

export const IN_FLIGHT = 100;
const STACK_64K = 65536;

/** The peer whose figures the ratios are about. */
export const US = 'bt';

export const PEERS = [
  { id: 'bt', label: 'background-thread', kind: 'node', script: 'background-thread.mjs' },
  { id: 'worker', label: 'worker_threads', kind: 'node', script: 'worker-threads.mjs' },
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
 * (1,000 alive only) and of lag (1 s). latency: [samples, warm-up] per peer; moduleLatency:
 * [samples, warm-up] of module-target starts (a Worker each, for both peers); cpuMs: the work
 * each of the two CPU-bound threads does (calibrated in each child).
 */
export function counts({ quick, rounds }) {
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
  if (rounds) C.rounds = C.rssRounds = C.lagRounds = Number(rounds);
  return C;
}

const na = (reason) => ({ na: reason });
const noThread = na('no thread');
const noLoop = na('no event loop');
const thr = (n, inFlight) => ({ metric: 'throughput', n, inFlight, warmup: Math.max(1, Math.round(n / 10)) });
export const k = (n) => (n >= 1000 ? `${n / 1000}k` : String(n));
const byPeer = (fn) => Object.fromEntries(PEERS.map((p) => [p.id, fn(p.id)]));

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
    // Module targets ({ module, export }): each is a Worker. The worker_threads column runs the
    // same module's same export in a plain Worker (peers/plain-worker.mjs): what our layer adds.
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
        // From the same samples: how soon the thread ends once its export has run (plain Worker: 'exit').
        { id: 'module-join-after', label: "module target: export's first line -> join() / 'exit'", unit: 'µs', better: 'lower', value: (r) => median(r.joined.map((j, i) => j - r.samples[i])) },
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
        // From the same samples: when the later of the two parallel runs began, i.e. the thread's start cost.
        { id: 'cpu-began', label: 'CPU-bound, 2 threads at once: the later began after', unit: 'ms', better: 'lower', value: (r) => Math.max(...r.parallel.map((q) => q.beganMs)) },
      ],
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
  return jobs;
}

/** The params of `peer` in `job` (the baseline takes bt's). */
export const paramsOf = (job, peer) => job.params[peer.paramsOf ?? peer.id];
