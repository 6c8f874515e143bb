// An isolate's entry (a Worker's): it carries out module threads' runs, one at a time, as the
// creator hands them over on its port (src/isolate/pool.ts; what they say to each other:
// src/isolate/protocol.ts). For each run it takes the thread's identity (currentThread() answers
// with the thread's name, ident and daemon flag, and the OS thread takes its name), imports the
// module (once per isolate), calls the export, reports what it returned or threw, and tells the
// addon the run has ended: as with every BackgroundThread, the target's settling ends the thread.
//
// A warm isolate is then reused, with the module's state kept, only if the thread left nothing
// behind that could run later (the addon looks when the turn of its settling is over: threads of
// its own, and whatever would keep a Node process from ending: ref'd timers, immediates,
// handles, requests in flight, handles still closing).
// Otherwise, and always for a fresh isolate, it retires: it ends (process.exit(), so that its
// 'exit' listeners run) and what the thread left pending ends with it, unrun; its env's end is
// the thread's end. When the thread left threads of its own running, the thread ends at once
// instead, and the isolate runs on, never reused, until they have ended (holding the creator's
// process open while non-daemon ones run); what its thread left runs on there too, and what it
// throws is still that thread's (lastIdent).
import { fileURLToPath } from 'node:url';
import * as v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { workerData, type TransferListItem } from 'node:worker_threads';
import { attach, listenLeftBehind, liveThreads } from '../native/loop';
import { adoptThreadIdentity, mainThread } from '../thread/main-thread';
import { isTransferring, kTransfer, type IsolateData, type Order, type Report, type RunMessage } from './protocol';
import { afterProcessEvent } from '../core/process-events';
import { kIsDaemon } from '../core/symbols';
import { decodeThrown, encodeThrown } from '../core/thrown';
import { runTrace, tracePromise } from '../core/tracing';

const { port, exited } = workerData as IsolateData;
// Binding runs to this env attaches its loop: the loop's native teardown ends the run it carries
// out, whatever ends the isolate.
const loop = attach();
let running: RunMessage | null = null;  // the run bound here, until this isolate has ended it
let cancelling: AbortController | null = null;  // the running thread's signal's
let lastIdent = 0;  // what comes between runs belongs to the run before
/** A module loaded here; `commonJs`: its `default` is a CommonJS module's `module.exports`. */
interface Loaded { namespace: Record<string, unknown>; commonJs: boolean }
const modules = new Map<string, Loaded>();

function post(report: Report, transferList?: readonly TransferListItem[]): void {
  try {
    port.postMessage(report, transferList);
  } catch (error) {
    // An encoded exception always clones: only a result can fail to.
    const problem = new TypeError(`the module target's result cannot be structured-cloned (${messageOf(error)})`);
    Object.assign(problem, { code: 'ERR_MODULE_TARGET_RESULT' });
    postThrown((report as { ident: number }).ident, problem);
  }
}

function messageOf(error: unknown): string {
  try {
    return error instanceof Error ? error.message : String(error);
  } catch {
    return '<error that cannot be printed>';
  }
}

/**
 * A thrown value goes as plain data (src/core/thrown.ts): its class, name, code, cause, errors
 * kept.
 */
function postThrown(ident: number, error: unknown): void {
  port.postMessage({ kind: 'thrown', ident, thrown: encodeThrown(error) } satisfies Report);
}

async function load(run: RunMessage): Promise<Loaded | null> {
  try {
    const namespace = await import(run.url) as Record<string, unknown>;
    // Node's loader keeps every CommonJS module it loads in require.cache (Node 18 to 26).
    const commonJs = run.url.startsWith('file:') && namespace.default !== undefined &&
      require.cache[fileURLToPath(run.url)]?.exports === namespace.default;
    const loaded = { namespace, commonJs };
    modules.set(run.url, loaded);
    return loaded;
  } catch (error) {
    post({ kind: 'load', ident: run.ident, message: messageOf(error) });
    return null;
  }
}

/**
 * The export `name` of a loaded module. A CommonJS module's namespace has `default` (its
 * `module.exports`) and only the named exports Node's static analysis finds (not, for one,
 * those of `module.exports = { hello: (n) => ... }`): a name it lacks is looked up on
 * `module.exports` then. Not for an ES module, whose `export default { hello }` is no export
 * named hello.
 */
function exportOf({ namespace, commonJs }: Loaded,
  name: string): { found: boolean; value: unknown } {
  if (name in namespace) return { found: true, value: namespace[name] };
  const exports = namespace.default as Record<string, unknown> | null;
  if (commonJs && (typeof exports === 'object' || typeof exports === 'function') && exports !== null &&
      name in exports) {
    return { found: true, value: exports[name] };
  }
  return { found: false, value: undefined };
}

/** Calls the run's export and reports what it returned or threw, or why it could not be called. */
async function call(run: RunMessage): Promise<void> {
  try {
    // A module already loaded here is called at once, without a turn of the loop.
    const loaded = modules.get(run.url) ?? await load(run);
    if (loaded === null) return;  // reported by load()
    const { found, value: target } = exportOf(loaded, run.exportName);
    if (typeof target !== 'function') {
      post({ kind: 'export', ident: run.ident, message: found
        ? `the export is not a function (${typeof target})` : 'the module has no such export' });
      return;
    }
    const args = run.kwargs === null ? run.args : [...run.args, run.kwargs];
    // Traced when the module (or what it loaded) subscribes: inside the run's start stores.
    const trace = runTrace(mainThread(), 'module', run.ident, run.name, run.daemon, null, run.carrier);
    const result = await (trace === null ? Reflect.apply(target, undefined, args)
      : tracePromise(trace, () => Reflect.apply(target, undefined, args)));
    if (isTransferring(result)) post({ kind: 'result', ident: run.ident, value: result.value }, result[kTransfer]);
    else post({ kind: 'result', ident: run.ident, value: result });
  } catch (error) {
    postThrown(run.ident, error);
  }
}

async function execute(run: RunMessage): Promise<void> {
  running = run;
  lastIdent = run.ident;
  const controller = cancelling = new AbortController();
  adoptThreadIdentity({
    ident: run.ident, name: run.name, daemon: run.daemon, signal: controller.signal,
    report: (value) => {
      if (running !== run) return false;
      post({ kind: 'progress', ident: run.ident, value });
      return true;
    },
  });
  await call(run);
  // The thread keeps nothing of its arguments here (its result went with its report).
  run.args = [];
  run.kwargs = null;
  if (!run.fresh) {
    // The warm path: the addon finishes the run once this turn is over, unless the thread has
    // left something behind by then: kLeftBehind (below). At the turn's end, not now: a rejection
    // the export left unhandled is raised after the microtasks (an uncaught error: it ends the
    // isolate first, as this thread's), and what it closed or ran last (an immediate) lets go of
    // the loop only then. No turn of the loop of our own: it would cost as much as the run.
    loop.finishAtTurnEnd(run.ident);
    return;
  }
  // A fresh isolate: one turn on, so that a rejection left unhandled is raised (as the thread's
  // exception) before it ends.
  await new Promise((resolve) => { setImmediate(resolve); });
  await retire(run);
}

let endingOurselves = false;  // the isolate's end is the runner's, not the module's process.exit()

/** Ends this isolate (its 'exit' listeners run); not the module's process.exit(). */
function end(): never {
  endingOurselves = true;
  process.exit(0);
}

// At the warm path's end, the thread had left something behind.
listenLeftBehind((ident) => {
  if (running?.ident === ident) void retire(running);
});

/**
 * The isolate retires after `run`: it ends with what the thread left pending, its env's end the
 * thread's end; or, when the thread left threads of its own, it ends the thread now, runs on
 * until those have ended (telling the creator while non-daemon ones hold its process open), then
 * ends.
 */
// This isolate's own pool, if a module here started module threads (it is loaded with them):
// not imported by the runner, so that booting an isolate does not pay for the pool.
const POOL = require.resolve('./pool');
const poolLoaded = (): typeof import('./pool') | undefined =>
  require.cache[POOL]?.exports as typeof import('./pool') | undefined;

async function retire(run: RunMessage): Promise<never> {
  let holding: boolean | null = null;
  for (;;) {
    const threads = liveThreads();
    const held = poolLoaded()?.isolatesHolding() ?? null;
    // The first time, the thread has not ended yet: the exit hook marks its run ended cleanly.
    if (threads.length === 0 && held === null) end();
    const now = held !== null || threads.some((thread) => !thread[kIsDaemon]());
    if (now !== holding) post({ kind: 'retiring', holding: holding = now });
    if (running === run) {
      running = null;
      loop.finishAdopted(run.ident);
    }
    await Promise.race([...threads.map((thread) => thread.join()),
      ...(held === null ? [] : [held])]);
  }
}

// Memory a run brought in (its arguments) or left as garbage is collected once the isolate has
// gone idle (the pool's 'collect' order, src/isolate/pool.ts): an idle isolate allocates nothing,
// so V8 would never collect it, and two 200 MiB arguments would stay until the isolate ends. A
// full collection takes milliseconds: only when the heap and the external memory (ArrayBuffers)
// have grown by GC_GROWTH since the last look, V8's own external-memory soft limit. Not after
// every run: looking (v8.getHeapStatistics() walks the heap's spaces) cost 15% of the runs/s of
// 100 warm module threads in flight.
const GC_GROWTH = 64 * 1024 * 1024;
let idleFootprint = footprint();
let gc: (() => void) | null = null;

function footprint(): number {
  const { used_heap_size: heap, external_memory: external } = v8.getHeapStatistics();
  return heap + external;
}

function collectIfGrown(): void {
  const now = footprint();
  if (now - idleFootprint < GC_GROWTH) {
    idleFootprint = Math.min(idleFootprint, now);  // V8 collected meanwhile
    return;
  }
  if (gc === null) {
    const own = (globalThis as { gc?: () => void }).gc;
    if (typeof own === 'function') {
      gc = own;  // --expose-gc
    } else {
      // V8's one way in: gc() exposed to one new context, the flag taken back at once (as jest's
      // leak detector does). V8's flags are the process's: a context that another thread makes
      // in that instant gets a gc() too.
      v8.setFlagsFromString('--expose-gc');
      try {
        gc = runInNewContext('gc') as () => void;
      } finally {
        v8.setFlagsFromString('--no-expose-gc');
      }
    }
  }
  gc();
  idleFootprint = footprint();
}

port.on('message', (order: Order) => {
  if (order.kind === 'end') end();  // an idle isolate the pool ends: its 'exit' listeners run
  if (order.kind === 'collect') {
    collectIfGrown();
    return;
  }
  if (order.kind === 'cancel') {
    if (running?.ident === order.ident) cancelling?.abort(decodeThrown(order.reason));
    return;
  }
  void execute(order);
});
// The addon's handle holds this loop open, not the port, so that it can ask libuv whether anything
// else would (finishAtTurnEnd).
loop.holdIsolateOpen();
port.unref();

// What the module writes goes to the creator on the port, synchronously, in order with its
// reports: the creator reads the port to its end before the thread is seen to end, so nothing
// written is lost or arrives after join()/joinSync() (a Worker's own stdio is delivered on the
// creator's loop, only by its 'exit' event). The streams stay Node's (they answer Node's own
// stdio messages); only where their bytes go changes.
type Chunk = { chunk: Buffer | string; encoding: BufferEncoding };
for (const stream of ['stdout', 'stderr'] as const) {
  Object.assign(process[stream], {
    _writev(chunks: Chunk[], callback: () => void): void {
      for (const { chunk, encoding } of chunks) {
        post({ kind: 'output', stream, chunk: typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk });
      }
      callback();
    },
  });
}

// The isolate's JavaScript has run to its end, its 'exit' listeners included (whatever ended it:
// a retiring run, the pool, the module calling process.exit(), an uncaught error): its env's end
// is the end of the run it carries out. A hook, not a listener: the module keeps all of its
// listener budget.
afterProcessEvent('exit', () => {
  port.postMessage({ kind: 'exiting' } satisfies Report);
  if (running !== null) {
    // The module's own process.exit(code) ends its thread normally, as SystemExit ends a Python
    // thread; the code (what its 'exit' listeners left in process.exitCode) is thread.exitCode.
    if (!endingOurselves) port.postMessage({ kind: 'exitCode', ident: running.ident, code: Number(process.exitCode ?? 0) } satisfies Report);
    loop.adoptedExited(running.ident);
  }
  Atomics.store(exited, 0, 1);
  Atomics.notify(exited, 0);
});
// An error the module throws outside the export (a timer's callback, an unhandled rejection) is
// the thread's exception too, and ends it and the isolate, as an uncaught error ends any Worker;
// reported here, it reaches the creator in order, before the thread is seen to end. After the
// thread's end (an isolate running on for the threads it left) it is still that thread's.
process.on('uncaughtException', (error) => {
  postThrown(running?.ident ?? lastIdent, error);
  end();
});
