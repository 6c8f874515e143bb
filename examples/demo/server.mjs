// The demo: an HTTP server whose requests start background threads that outlive them.
//   POST /jobs?seconds=S[&daemon=1]  start a report job; 202 {"ident", "name"} at once
//   POST /jobs/IDENT/cancel          cancel a running job; 202 {"ident", "name"}, 409 if it has
//                                    nothing to cancel (ended, or cancelled already), 404 if no
//                                    such job
//   GET  /threads                    live threads and the last finished jobs, as JSON
//   GET  /                           a page that shows the same, starts jobs and cancels them
// Each job is a module target (report-job.mjs's `report`) that reports its progress
// (currentThread().reportProgress: a percentage, which /threads shows) and observes its signal, so
// that a cancel ends it within a page of work.
// SIGINT/SIGTERM: stop accepting connections, cancel the daemon jobs (reason 'server shutting
// down'), wait for the non-daemon jobs to finish and for the cancelled ones to end, with one
// deadline (DRAIN_SECONDS, default 30), exit 0 (1 if the drain timed out). A second signal exits
// at once (128 + the signal's number).
// DEMO_REMOTE=1 (npm run demo:cluster, examples/demo/cluster.mjs): each job is a remote thread, a
// BullMQ job run by a worker process (report-remote.mjs), configured by the launcher through the
// BACKGROUND_THREAD_REMOTE* variables; its progress comes through BullMQ, a cancel is carried out
// on the worker, and /threads also says which worker ran each finished job.
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { BackgroundThread, enumerate, joinAll } from 'background-thread';

const HOST = '127.0.0.1';
const PORT = Number(process.env.PORT ?? 8080);
const DRAIN_SECONDS = Number(process.env.DRAIN_SECONDS ?? 30);
if (!Number.isInteger(PORT) || PORT < 0 || PORT > 65535) throw new RangeError(`PORT must be 0-65535, not ${process.env.PORT}`);
if (!(DRAIN_SECONDS >= 0)) throw new RangeError(`DRAIN_SECONDS must be a number >= 0, not ${process.env.DRAIN_SECONDS}`);
const MAX_SECONDS = 3600;
const KEEP_FINISHED = 10;
const PAGE = readFileSync(new URL('page.html', import.meta.url));
const REMOTE = process.env.DEMO_REMOTE === '1';
// A worker imports a remote job's module by its path under the root, allowed by name.
const JOB_MODULE = new URL(REMOTE ? 'report-remote.mjs' : 'report-job.mjs', import.meta.url).href;
const CANCEL_REASON = 'cancelled from the page';
const SHUTDOWN_REASON = 'server shutting down';

/** Each job's thread and times, by ident; finished ones are kept, the last few only. */
const jobs = new Map();
const finished = [];

const jobName = (seconds, daemon) => `report-${seconds}s${daemon ? '-daemon' : ''}`;

// Its end is awaited with join(), which holds the process open while it waits, a daemon job's
// too: harmless, since the server ends only by shutdown()'s process.exit().
function startJob(seconds, daemon) {
  const thread = new BackgroundThread({
    name: jobName(seconds, daemon),
    daemon,
    target: { module: JOB_MODULE, export: 'report', remote: REMOTE },
    args: [seconds],
  });
  const job = { thread, started: new Date().toISOString(), ended: null };
  thread.start();
  jobs.set(thread.ident, job);
  thread.join().then(() => {
    job.ended = new Date().toISOString();
    const { state, reason } = outcome(thread);
    const label = `${thread.name} (ident ${thread.ident})`;
    if (state === 'cancelled') console.log(`${label} cancelled: ${reason}`);
    // A failure: the excepthook has printed it.
    if (state !== 'done') return;
    console.log(`${label} finished${REMOTE ? ` on ${thread.remote.worker}` : ''}: ` +
      `${thread.result.orders} orders, best region ${thread.result.bestRegion}`);
  });
  return thread;
}

/**
 * A job's state: running, cancelling (cancelled, not ended yet), done, cancelled (with the
 * cancel's reason) or failed (with the error's message).
 */
function outcome(thread) {
  if (thread.isAlive()) return { state: thread.signal.aborted ? 'cancelling' : 'running' };
  const { exception } = thread;
  if (exception?.code === 'ERR_THREAD_CANCELLED') return { state: 'cancelled', reason: String(exception.cause) };
  if (exception !== undefined) return { state: 'failed', error: String(exception?.message ?? exception) };
  return { state: 'done' };
}

// Jobs whose thread has ended move to the finished list.
function sweep() {
  for (const [ident, job] of jobs) {
    if (job.thread.isAlive()) continue;
    jobs.delete(ident);
    finished.unshift(job);
  }
  finished.length = Math.min(finished.length, KEEP_FINISHED);
}

/** A thread as /threads shows it; the job fields are null for a thread that is no job. */
function describe(thread, job) {
  const { state = null, reason = null, error = null } = job ? outcome(thread) : {};
  return {
    ident: thread.ident,
    name: thread.name,
    nativeId: thread.nativeId,
    daemon: thread.daemon,
    alive: thread.isAlive(),
    state,
    // A percentage; null until the job's target has begun (a remote job still waiting).
    progress: job ? thread.progress ?? null : null,
    started: job?.started ?? null,
    ended: job?.ended ?? null,
    report: job && state === 'done' ? thread.result : null,
    reason,
    error,
    ...REMOTE && { worker: thread.remote?.worker ?? null },
  };
}

function threadsReport() {
  sweep();
  const live = enumerate().map((thread) => describe(thread, jobs.get(thread.ident)));
  const report = { threads: live, finished: finished.map((job) => describe(job.thread, job)) };
  return REMOTE ? { remote: true, ...report } : report;
}

function send(res, status, body, type = 'application/json; charset=utf-8') {
  const payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(payload);
}

/** seconds: a number in (0, MAX_SECONDS]; daemon: absent, 0 or 1. Else a message for the 400. */
function parseJob(params) {
  const raw = params.get('seconds');
  if (raw === null || raw.trim() === '') return { error: 'seconds is required, e.g. /jobs?seconds=5' };
  const seconds = Number(raw);
  if (!Number.isFinite(seconds)) return { error: `seconds must be a number, not ${JSON.stringify(raw)}` };
  if (seconds <= 0 || seconds > MAX_SECONDS) return { error: `seconds must be more than 0 and at most ${MAX_SECONDS}` };
  const daemon = params.get('daemon') ?? '0';
  if (daemon !== '0' && daemon !== '1') return { error: 'daemon must be 0 or 1' };
  return { seconds, daemon: daemon === '1' };
}

const server = createServer((req, res) => {
  const url = new URL(req.url, `http://${req.headers.host ?? HOST}`);
  const route = `${req.method} ${url.pathname}`;
  if (route === 'POST /jobs') {
    const parsed = parseJob(url.searchParams);
    if (parsed.error) return send(res, 400, { error: parsed.error });
    let thread;
    try {
      thread = startJob(parsed.seconds, parsed.daemon);
    } catch (error) {
      return send(res, 503, { error: error.message, code: error.code });
    }
    // Answered now; the thread goes on after this response is gone.
    return send(res, 202, { ident: thread.ident, name: thread.name });
  }
  const cancelPath = /^\/jobs\/(\d+)\/cancel$/.exec(url.pathname);
  if (cancelPath && req.method === 'POST') {
    const ident = Number(cancelPath[1]);
    const thread = (jobs.get(ident) ?? finished.find((job) => job.thread.ident === ident))?.thread;
    if (!thread) return send(res, 404, { error: `no job ${ident}` });
    // false: it has ended, or its end is known, or it was cancelled already.
    if (!thread.cancel(CANCEL_REASON)) return send(res, 409, { error: `job ${ident} has nothing to cancel` });
    // Its end follows (/threads: cancelling, then cancelled).
    return send(res, 202, { ident, name: thread.name });
  }
  if (route === 'GET /threads') return send(res, 200, threadsReport());
  if (route === 'GET /') return send(res, 200, PAGE, 'text/html; charset=utf-8');
  if (cancelPath || ['/jobs', '/threads', '/'].includes(url.pathname)) return send(res, 405, { error: `${req.method} not allowed here` });
  return send(res, 404, { error: `no route ${url.pathname}` });
});

let stopping = false;
async function shutdown(signal) {
  if (stopping) {
    console.log(`${signal} again: exiting now`);
    process.exit(128 + constants.signals[signal]);
  }
  stopping = true;
  sweep();
  server.close();
  server.closeIdleConnections();
  const live = [...jobs.values()].map((job) => job.thread);
  const waiting = live.filter((thread) => !thread.daemon).map((thread) => thread.name);
  const daemons = live.filter((thread) => thread.daemon);
  console.log(`${signal}: no new connections; waiting up to ${DRAIN_SECONDS}s for ` +
    `${waiting.length} job(s)${waiting.length ? `: ${waiting.join(', ')}` : ''}`);
  // Daemon jobs are not worth waiting for, but a remote one would run on, on its worker: they are
  // cancelled, and their ends (prompt: the job observes its signal) awaited with the rest.
  for (const thread of daemons) thread.cancel(SHUTDOWN_REASON);
  if (daemons.length) {
    console.log(`cancelling daemon job(s) (${SHUTDOWN_REASON}): ` +
      `${daemons.map((thread) => thread.name).join(', ')}`);
  }
  const ends = await Promise.all([joinAll(DRAIN_SECONDS),
    ...daemons.map((thread) => thread.join(DRAIN_SECONDS))]);
  const drained = ends.every(Boolean);
  console.log(drained ? 'all jobs done; bye' : `drain timed out after ${DRAIN_SECONDS}s; exiting`);
  process.exit(drained ? 0 : 1);
}
process.on('SIGINT', () => { shutdown('SIGINT'); });
process.on('SIGTERM', () => { shutdown('SIGTERM'); });

server.listen(PORT, HOST, () => {
  const { port } = server.address();
  console.log(`background-thread demo listening on http://${HOST}:${port}/${REMOTE ? ' (jobs run on the remote workers)' : ''}`);
  console.log(`try: curl -X POST 'http://${HOST}:${port}/jobs?seconds=5'`);
});
