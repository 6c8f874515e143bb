// Stress: start/join cycles (mixed daemon flags, batches in flight), then many threads alive at
// once, then module targets (warm and fresh isolates, some ending theirs), then Workers
// terminated under live threads (module threads of their own included); checks that OS threads,
// active handles and RSS come back to their baseline. Prints one JSON summary line; exit 1 when a
// check fails.
//   node scripts/stress.mjs [--cycles 100000] [--inFlight 100] [--alive 10000] [--stack 65536]
//                           [--isolated 40] [--terminate 20] [--warmup 2] [--memory on|off]
// The baseline is taken after `warmup` rounds of every phase, so that the allocators and V8 have
// settled; one more round must then leave OS threads, handles and memory where they were.
// `npm run test:stress` runs it full size; the sanitizer and valgrind scripts run it smaller,
// with --memory off (their own allocators make memory figures meaningless).
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';
import { BackgroundThread, isolatePool, setExcepthook, setIsolatePool } from 'background-thread';
import { parkedTasks, tasks as threadsAtWork } from '../test/helpers/os-threads.mjs';

const { values } = parseArgs({
  options: {
    cycles: { type: 'string', default: '100000' },
    inFlight: { type: 'string', default: '100' },
    alive: { type: 'string', default: '10000' },
    stack: { type: 'string', default: '65536' },
    isolated: { type: 'string', default: '40' },
    terminate: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '2' },
    memory: { type: 'string', default: 'on' },
  },
});
const cycles = Number(values.cycles);
const inFlight = Number(values.inFlight);
const alive = Number(values.alive);
const stack = Number(values.stack);
const isolated = Number(values.isolated);
const terminations = Number(values.terminate);

// OS threads at work: those parked for reuse are counted apart, and must end by themselves once
// their idle time has passed.
const tasks = () => threadsAtWork().length;
const parked = () => parkedTasks().length;
// stdout/stderr are TTYs or pipes that node opens lazily, whenever something first writes to them.
const resources = () => process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap' && r !== 'PipeWrap');
const handles = () => resources().length;
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');
/**
 * Memory after a full GC: `rss`, and `native`, the RSS outside V8's heap (which V8 grows and
 * keeps once it has needed it) and `heapUsed` (live JS objects): a native leak grows the first,
 * a JS leak the second.
 */
const memory = () => {
  gc();
  const { rss, heapTotal, heapUsed } = process.memoryUsage();
  return { rss, native: rss - heapTotal, heapUsed };
};
const settle = () => new Promise((resolve) => setTimeout(resolve, 50));
const mib = (bytes) => Math.round(bytes / 1048576 * 10) / 10;

async function cyclesPhase() {
  let next = 0;
  let daemonCount = 0;
  const began = performance.now();
  async function lane() {
    while (next < cycles) {
      const i = next++;
      const daemon = i % 3 === 0;
      if (daemon) daemonCount++;
      // Every kind of target: sync, async, throwing (to the excepthook, silenced below).
      const target = i % 7 === 0 ? async () => { await null; } : i % 11 === 0 ? () => { throw new Error('x'); } : () => i;
      const t = new BackgroundThread({ target, daemon });
      t.start();
      if (!(await t.join())) throw new Error(`cycle ${i} did not end`);
    }
  }
  await Promise.all(Array.from({ length: inFlight }, lane));
  return { cycles, daemon: daemonCount,
    perSecond: Math.round(cycles / ((performance.now() - began) / 1000)) };
}

async function alivePhase() {
  let release;
  const gate = new Promise((resolve) => { release = resolve; });
  const before = { tasks: tasks(), rss: memory().rss };
  const threads = [];
  const began = performance.now();
  for (let i = 0; i < alive; i++) {
    const t = new BackgroundThread({ target: () => gate, stackSize: stack, daemon: i % 2 === 0 });
    t.start();
    threads.push(t);
  }
  const startMs = performance.now() - began;
  await settle();  // every target has run and waits on the gate
  const during = { tasks: tasks(), rss: memory().rss };
  release();
  await Promise.all(threads.map((t) => t.join()));
  return {
    alive, stack, startMs: Math.round(startMs),
    extraTasks: during.tasks - before.tasks,
    rssPerThreadKiB: Math.round((during.rss - before.rss) / alive / 1024 * 10) / 10,
  };
}

// Module targets as data: URLs; one in four throws (to the excepthook, as the cycles' targets do),
// one in eight ends its isolate (process.exit: never reused), one in five gets a fresh isolate.
const moduleTarget = (body) => ({ module: `data:text/javascript,${encodeURIComponent(body)}` });
const SETTLES = moduleTarget('export default (i) => { if (i % 8 === 5) process.exit(0); ' +
  'if (i % 4 === 3) throw new Error(`stress ${i}`); return i; }');
const NEVER_SETTLES = moduleTarget('export default () => new Promise(() => {});');

async function isolatedPhase() {
  let next = 0;
  async function lane() {
    while (next < isolated) {
      const i = next++;
      const isolate = i % 5 === 0 ? 'fresh' : 'warm';
      const t = new BackgroundThread({ daemon: i % 2 === 0, target: SETTLES, args: [i], isolate });
      t.start();
      // Every third one joined with the blocking native wait.
      const ended = i % 3 === 0 ? t.joinSync(120) : await t.join(120);
      if (!ended) throw new Error(`module thread ${i} did not end`);
      const expected = i % 8 === 5 || i % 4 === 3 ? undefined : i;
      if (t.result !== expected) throw new Error(`module thread ${i}: result ${t.result}`);
    }
  }
  await Promise.all(Array.from({ length: Math.min(4, isolated) }, lane));
  // End the idle isolates (the pool's trim), so that OS threads return to the baseline.
  const { maxIdle, idleTimeout } = isolatePool();
  setIsolatePool({ maxIdle: 0, idleTimeout: 0 });
  setIsolatePool({ maxIdle, idleTimeout });
  return { isolated };
}

async function terminatePhase() {
  const source = `
    const { BackgroundThread } = require(${JSON.stringify(createRequire(import.meta.url).resolve('background-thread'))});
    const never = new Promise(() => {});
    for (let i = 0; i < 16; i++) new BackgroundThread({ daemon: i % 2 === 0, target: () => never }).start();
    for (let i = 0; i < 2; i++) new BackgroundThread({ daemon: i === 0, target: ${JSON.stringify(NEVER_SETTLES)} }).start();
    (async () => { for (;;) { const t = new BackgroundThread({ target: () => {} }); t.start(); await t.join(); } })();
  `;
  for (let i = 0; i < terminations; i++) {
    const worker = new Worker(source, { eval: true });
    await new Promise((resolve) => setTimeout(resolve, i % 5));
    await worker.terminate();
  }
  return { terminations };
}

setExcepthook(() => {});  // the throwing targets of the cycles phase
// Baseline after one round of each phase: glibc keeps freed thread stacks (up to 40 MiB) and V8
// grows its heap once and keeps it; a leak shows as growth beyond that in the second round.
const round = async () => ({
  cycles: await cyclesPhase(), alive: await alivePhase(), isolated: await isolatedPhase(),
  terminate: await terminatePhase(),
});
for (let i = 0; i < Number(values.warmup); i++) await round();
await settle();
const baseline = { tasks: tasks(), handles: handles(), ...memory() };
const report = (m) => ({ tasks: m.tasks, handles: m.handles, rssMiB: mib(m.rss),
  nativeMiB: mib(m.native), heapUsedMiB: mib(m.heapUsed) });
const summary = { baseline: report(baseline) };
Object.assign(summary, await round());

// Orphaned threads of terminated Workers end on their own; give them a moment.
let after;
for (let i = 0; i < 40; i++) {
  await settle();
  after = { tasks: tasks(), handles: handles(), ...memory() };
  if (after.tasks <= baseline.tasks && after.handles <= baseline.handles) break;
}
summary.after = report(after);
// And the parked OS threads end once idle (5 s by default; the loop waits up to 60 s).
for (let i = 0; i < 600 && parked() > 0; i++) {
  await new Promise((resolve) => setTimeout(resolve, 100));
}
summary.after.parked = parked();
const failures = [];
if (summary.after.parked > 0) failures.push(`${summary.after.parked} parked OS threads did not end`);
if (summary.alive.extraTasks !== alive) failures.push(`${summary.alive.extraTasks} OS threads for ${alive} live threads`);
if (after.tasks > baseline.tasks) failures.push(`OS threads ${baseline.tasks} -> ${after.tasks}`);
if (after.handles > baseline.handles) failures.push(`active handles ${baseline.handles} -> ${after.handles}: ${resources().join(', ')}`);
// What one more round may add without a leak: malloc arenas and glibc's stack cache settling,
// which moves RSS by up to ~9 MiB either way from round to round. A leak grows it in every
// round, the settling does not: past the limit, one more round must grow it past it again.
const NATIVE_LIMIT = 8 * 1048576;
if (values.memory === 'on' && after.native - baseline.native > NATIVE_LIMIT) {
  await round();
  await settle();
  const again = memory();
  summary.again = { nativeMiB: mib(again.native) };
  if (again.native - after.native > NATIVE_LIMIT) failures.push(`native memory ${mib(baseline.native)} -> ${mib(after.native)} -> ${mib(again.native)} MiB`);
}
if (values.memory === 'on' && after.heapUsed - baseline.heapUsed > 2 * 1048576) failures.push(`JS heap ${mib(baseline.heapUsed)} -> ${mib(after.heapUsed)} MiB`);
summary.failures = failures;
console.log(JSON.stringify(summary));
process.exitCode = failures.length ? 1 : 0;
