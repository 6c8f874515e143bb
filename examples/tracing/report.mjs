// The target of the example's threads (server.mjs): a module target's export, run in an isolate
// here and, as a remote thread, on a worker. It loads the subscriber, so its runs are traced, and
// makes a span of its own: a child of its run's.
import { tracer } from './otel.mjs';

export async function report(what) {
  return tracer.startActiveSpan(`build ${what}`, async (span) => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    span.end();
    return `${what}: done in ${process.pid}`;
  });
}
