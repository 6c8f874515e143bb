// OpenTelemetry for background-thread: a subscriber of the package's TracingChannels (see
// docs/api.md#tracing) that gives each thread a span from start() to its end, and each run a
// span where it runs, and that carries the trace along in the thread's carrier as a W3C
// traceparent. Load it in every place a thread's code runs:
//   the app                 import './otel.mjs' first (or node --import ./otel.mjs app.mjs)
//   a module target         import it from the target's module: its isolate subscribes then
//   a remote thread's worker  NODE_OPTIONS="--import /path/to/otel.mjs" background-thread-worker
// Spans go to the console, or as JSON lines to the file OTEL_SPANS_FILE names (what the test
// reads). A real app would plug its own exporter (OTLP, say) in instead.
import { AsyncLocalStorage } from 'node:async_hooks';
import { tracingChannel } from 'node:diagnostics_channel';
import { appendFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider, ConsoleSpanExporter, SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

// OpenTelemetry's context manager, on a store of our own: the run channel binds it (bindStore),
// so that a run's span is the active context inside the target.
class ChannelContextManager extends AsyncLocalStorageContextManager {
  storage = new AsyncLocalStorage();
  active() { return this.storage.getStore() ?? ROOT_CONTEXT; }
  with(ctx, fn, thisArg, ...args) {
    return this.storage.run(ctx, thisArg == null ? fn : fn.bind(thisArg), ...args);
  }
}

/** Appends each finished span to a file, one JSON line each, from any process or isolate. */
class FileSpanExporter {
  constructor(file) { this.file = file; }
  export(spans, done) {
    const lines = spans.map((span) => JSON.stringify({
      name: span.name, traceId: span.spanContext().traceId, spanId: span.spanContext().spanId,
      parentSpanId: span.parentSpanContext?.spanId ?? null, attributes: span.attributes,
      status: span.status.code, pid: process.pid, threadId,
    }));
    appendFileSync(this.file, lines.map((line) => `${line}\n`).join(''));
    done({ code: 0 });
  }
  shutdown() { return Promise.resolve(); }
}

const manager = new ChannelContextManager();
context.setGlobalContextManager(manager);
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
const exporter = process.env.OTEL_SPANS_FILE
  ? new FileSpanExporter(process.env.OTEL_SPANS_FILE) : new ConsoleSpanExporter();
const spanProcessors = [new SimpleSpanProcessor(exporter)];
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors }));
const tracer = trace.getTracer('background-thread-example');

const attributesOf = (ctx) => ({
  'thread.kind': ctx.kind, 'thread.name': ctx.name, 'thread.daemon': ctx.daemon,
  ...(ctx.ident !== null && { 'thread.id': ctx.ident }), ...(ctx.jobId !== null && { 'thread.job_id': ctx.jobId }),
});
const spans = new WeakMap();  // the context object of a start or a run -> its span

function end(ctx) {
  const span = spans.get(ctx);
  if (span === undefined) return;
  spans.delete(ctx);
  span.setAttributes(attributesOf(ctx));  // the ident and the job id are known by now
  if ('error' in ctx) {
    span.recordException(ctx.error instanceof Error ? ctx.error : String(ctx.error));
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

// The thread: a span from start() to the thread's end, a child of the caller's active span; its
// context goes into the carrier, which travels with the thread.
const start = tracingChannel('background-thread:start');
start.subscribe({
  start(ctx) {
    const parent = context.active();
    const span = tracer.startSpan(`thread ${ctx.name}`, { kind: SpanKind.PRODUCER, attributes: attributesOf(ctx) }, parent);
    spans.set(ctx, span);
    propagation.inject(trace.setSpan(parent, span), ctx.carrier);
  },
  end(ctx) { if ('error' in ctx) end(ctx); },  // start() threw: the thread never ran
  asyncEnd: end,
});

// The run: a span where the target runs, a child of the thread's (from the carrier), active
// inside the target.
const run = tracingChannel('background-thread:run');
run.start.bindStore(manager.storage, (ctx) => {
  const parent = propagation.extract(ROOT_CONTEXT, ctx.carrier);
  const span = tracer.startSpan(`run ${ctx.name}`, { kind: SpanKind.CONSUMER, attributes: attributesOf(ctx) }, parent);
  spans.set(ctx, span);
  return trace.setSpan(parent, span);
});
run.subscribe({ asyncEnd: end });

export { tracer };
