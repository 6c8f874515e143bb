// The Worker's half of a module target (see isolated-thread.ts): this file is the Worker's entry.
// It takes the thread's identity (currentThread() answers with the creator's name, ident and
// daemon flag), imports the module, calls the export, reports what it threw, and ends the
// Worker once the export has settled: as with every BackgroundThread, the target's settling ends
// the thread, whatever it left scheduled.
import { workerData } from 'node:worker_threads';
import { describe } from './excepthook';
import type { RunnerData, RunnerReport } from './isolated-thread';
import { attach } from './loop';
import { adoptThreadIdentity } from './main-thread';

const data = workerData as RunnerData;

function post(report: RunnerReport): void {
  try {
    data.port.postMessage(report);
  } catch {
    // Not cloneable (a function, a Proxy, an Error with such a cause): send what it prints as.
    data.port.postMessage({ kind: 'thrown', value: describe((report as { value?: unknown }).value) } satisfies RunnerReport);
  }
}

function messageOf(error: unknown): string {
  try {
    return error instanceof Error ? error.message : String(error);
  } catch {
    return '<error that cannot be printed>';
  }
}

async function main(): Promise<void> {
  let namespace: Record<string, unknown>;
  try {
    namespace = await import(data.url);
  } catch (error) {
    post({ kind: 'load', message: messageOf(error) });
    return;
  }
  const target = namespace[data.exportName];
  if (typeof target !== 'function') {
    post({ kind: 'export', message: data.exportName in namespace
      ? `the export is not a function (${typeof target})` : 'the module has no such export' });
    return;
  }
  try {
    const args = data.kwargs === null ? data.args : [...data.args, data.kwargs];
    await Reflect.apply(target, undefined, args);
  } catch (error) {
    postThrown(error);
  }
}

function postThrown(error: unknown): void {
  let code: unknown;
  try { code = (error as { code?: unknown } | null)?.code; } catch { /* a throwing getter */ }
  post({ kind: 'thrown', value: error, code });
}

// What the module writes goes to the creator on the report port, synchronously, in order with
// its exceptions: the creator reads the port to its end before the thread is seen to end, so
// nothing written is lost or arrives after join()/joinSync() (a Worker's own stdio is delivered
// on the creator's loop, only by its 'exit' event). The streams stay Node's (they answer Node's
// own stdio messages); only where their bytes go changes.
type Chunk = { chunk: Buffer | string; encoding: BufferEncoding };
for (const stream of ['stdout', 'stderr'] as const) {
  Object.assign(process[stream], {
    _writev(chunks: Chunk[], callback: () => void): void {
      for (const { chunk, encoding } of chunks) {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk;
        post({ kind: 'output', stream, chunk: bytes });
      }
      callback();
    },
  });
}

// Binding this OS thread to the thread's record attaches this loop: the loop's native teardown
// is what ends the thread, whatever ends the Worker.
adoptThreadIdentity(data.ident, data.name, data.daemon);
// The Worker's JavaScript has run to its end (whatever ended it: the export settled, the module
// called process.exit(), an uncaught error): its env's end is the thread's end.
const loop = attach();
process.on('exit', () => { loop.exitedCleanly(data.ident); });
// An error the module throws outside the export (a timer's callback, an unhandled rejection) is
// the thread's exception too, and ends it, as an uncaught error ends any Worker; reported here,
// it reaches the creator in order, before the thread is seen to end.
process.on('uncaughtException', (error) => {
  postThrown(error);
  process.exit(0);
});
// The thread lives until the export settles, even when what it awaits holds nothing open in
// this loop (a Promise that never settles, Atomics.waitAsync, an unref'd timer).
const alive = setInterval(() => {}, 2 ** 31 - 1);
main().finally(() => {
  clearInterval(alive);
  process.exit(0);
});
