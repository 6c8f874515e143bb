// An isolate's entry (a Worker's): it carries out module threads' runs, one at a time, as the
// creator hands them over on its port (src/isolate-pool.ts, protocol in module-protocol.ts). For
// each run it takes the thread's identity (currentThread() answers with the thread's name, ident
// and daemon flag, and the OS thread takes its name), imports the module (once per isolate),
// calls the export, reports what it returned or threw, and tells the addon the run has ended:
// as with every BackgroundThread, the target's settling ends the thread. A warm isolate then
// waits for its next run, with the module's state (and whatever it left scheduled) kept; a fresh
// one exits, and its env's end is the thread's end.
import { workerData, type TransferListItem } from 'node:worker_threads';
import { describe } from './thrown';
import { attach } from './loop';
import { adoptThreadIdentity } from './main-thread';
import { isTransferring, kTransfer, type IsolateData, type Report, type RunMessage } from './module-protocol';

const { port } = workerData as IsolateData;
// Binding runs to this env attaches its loop: the loop's native teardown ends the run it carries
// out, whatever ends the isolate.
const loop = attach();
let running: RunMessage | null = null;
let lastIdent = 0;  // what comes between runs belongs to the run before
const namespaces = new Map<string, Record<string, unknown>>();

function post(report: Report, transferList?: readonly TransferListItem[]): void {
  try {
    port.postMessage(report, transferList);
  } catch (error) {
    if (report.kind === 'result') {
      const problem = new TypeError(`the module target's result cannot be structured-cloned (${messageOf(error)})`);
      port.postMessage({ kind: 'thrown', ident: report.ident, value: problem, code: 'ERR_MODULE_TARGET_RESULT' } satisfies Report);
      return;
    }
    // Not cloneable (a function, a Proxy, an Error with such a cause): send what it prints as.
    const ident = (report as { ident: number }).ident;
    port.postMessage({ kind: 'thrown', ident, value: describe((report as { value?: unknown }).value) } satisfies Report);
  }
}

function messageOf(error: unknown): string {
  try {
    return error instanceof Error ? error.message : String(error);
  } catch {
    return '<error that cannot be printed>';
  }
}

function postThrown(ident: number, error: unknown): void {
  let code: unknown;
  try { code = (error as { code?: unknown } | null)?.code; } catch { /* a throwing getter */ }
  post({ kind: 'thrown', ident, value: error, code });
}

async function load(run: RunMessage): Promise<Record<string, unknown> | null> {
  try {
    const namespace = await import(run.url) as Record<string, unknown>;
    namespaces.set(run.url, namespace);
    return namespace;
  } catch (error) {
    post({ kind: 'load', ident: run.ident, message: messageOf(error) });
    return null;
  }
}

async function execute(run: RunMessage): Promise<void> {
  running = run;
  lastIdent = run.ident;
  adoptThreadIdentity(run.ident, run.name, run.daemon);
  try {
    // A module already loaded here is called at once, without a turn of the loop.
    const namespace = namespaces.get(run.url) ?? await load(run);
    const target = namespace?.[run.exportName];
    if (namespace === null) {
      // reported by load()
    } else if (typeof target !== 'function') {
      post({ kind: 'export', ident: run.ident, message: run.exportName in namespace!
        ? `the export is not a function (${typeof target})` : 'the module has no such export' });
    } else {
      const args = run.kwargs === null ? run.args : [...run.args, run.kwargs];
      const result = await Reflect.apply(target, undefined, args);
      if (isTransferring(result)) post({ kind: 'result', ident: run.ident, value: result.value }, result[kTransfer]);
      else post({ kind: 'result', ident: run.ident, value: result });
    }
  } catch (error) {
    postThrown(run.ident, error);
  }
  if (run.fresh) {
    process.exit(0);  // the 'exit' handler marks the run ended cleanly; the env's end ends it
  }
  running = null;
  loop.finishModuleThread(run.ident);
}

port.on('message', (run: RunMessage) => { void execute(run); });

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

// The isolate's JavaScript has run to its end (whatever ended it: a fresh run settled, the module
// called process.exit(), an uncaught error): its env's end is the end of the run it carries out.
process.on('exit', () => {
  port.postMessage({ kind: 'exiting' } satisfies Report);
  if (running !== null) loop.moduleThreadExited(running.ident);
});
// An error the module throws outside the export (a timer's callback, an unhandled rejection) is
// the thread's exception too, and ends it and the isolate, as an uncaught error ends any Worker;
// reported here, it reaches the creator in order, before the thread is seen to end.
process.on('uncaughtException', (error) => {
  postThrown(running?.ident ?? lastIdent, error);
  process.exit(0);
});
