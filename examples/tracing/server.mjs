// The tracing example's app (examples/tracing/otel.mjs has the how): an HTTP server whose
// handler, inside the request's span, runs a report as a module target in an isolate and as a
// remote thread on a worker (BACKGROUND_THREAD_REMOTE* configure it; without them, the module
// thread only), and answers with both. Every span of a request shares its trace id.
//   node examples/tracing/server.mjs   (PORT, default 8081)
//   curl localhost:8081/report
import './otel.mjs';
import { createServer } from 'node:http';
import { SpanKind, trace } from '@opentelemetry/api';
import { BackgroundThread } from 'background-thread';

const REPORT = new URL('report.mjs', import.meta.url).href;
const REMOTE = Boolean(process.env.BACKGROUND_THREAD_REMOTE);
const tracer = trace.getTracer('background-thread-example');

async function runReport(what, remote) {
  const thread = new BackgroundThread({ name: `report-${what}`, target: { module: REPORT, export: 'report', remote }, args: [what] });
  thread.start();
  await thread.join();
  if (thread.exception !== undefined) throw thread.exception;
  return thread.result;
}

const server = createServer((req, res) => {
  // No HTTP instrumentation here: the request's span by hand, active while the handler runs.
  void tracer.startActiveSpan(`${req.method} ${req.url}`, { kind: SpanKind.SERVER }, async (span) => {
    try {
      const reports = await Promise.all([runReport('local', false), ...(REMOTE ? [runReport('remote', true)] : [])]);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ traceId: span.spanContext().traceId, reports }));
    } catch (error) {
      res.statusCode = 500;
      res.end(String(error?.message ?? error));
    } finally {
      span.end();
    }
  });
});
server.listen(Number(process.env.PORT ?? 8081), '127.0.0.1', () => {
  process.stdout.write(`listening on ${server.address().port}\n`);
});
