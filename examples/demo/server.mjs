// The demo: an HTTP server whose requests start background threads that outlive them.
//   POST /jobs?seconds=S[&daemon=1]  start a report job; 202 {"ident", "name"} at once
//   GET  /threads                    live threads and the last finished jobs, as JSON
//   GET  /                           a page that shows the same and starts jobs
// SIGINT/SIGTERM: stop accepting connections, wait for the non-daemon jobs (DRAIN_SECONDS,
// default 30) with joinAll(), abandon daemon jobs, exit 0 (1 if the drain timed out). A second
// signal exits at once (128 + the signal's number).
// DEMO_REMOTE=1 (npm run demo:cluster, examples/demo/cluster.mjs): each job is a remote thread, a
// BullMQ job run by a worker process (report-remote.mjs), configured by the launcher through the
// BACKGROUND_THREAD_REMOTE* variables; /threads then says, for each finished job, which worker
// ran it, and its report.
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { BackgroundThread, currentThread, enumerate, joinAll } from 'background-thread';
import { buildReport } from './report-job.mjs';

const HOST = '127.0.0.1';
const PORT = Number(process.env.PORT ?? 8080);
const DRAIN_SECONDS = Number(process.env.DRAIN_SECONDS ?? 30);
if (!Number.isInteger(PORT) || PORT < 0 || PORT > 65535) throw new RangeError(`PORT must be 0-65535, not ${process.env.PORT}`);
if (!(DRAIN_SECONDS >= 0)) throw new RangeError(`DRAIN_SECONDS must be a number >= 0, not ${process.env.DRAIN_SECONDS}`);
const MAX_SECONDS = 3600;
const KEEP_FINISHED = 10;
const PAGE = readFileSync(new URL('page.html', import.meta.url));
const REMOTE = process.env.DEMO_REMOTE === '1';
const REMOTE_JOB = new URL('report-remote.mjs', import.meta.url).href;

/** What /threads shows of each job, by ident; finished ones are kept, the last few only. */
const jobs = new Map();
const finished = [];

function startJob(seconds, daemon) {
  if (REMOTE) return startRemoteJob(seconds, daemon);
  const job = { seconds, progress: 0, started: new Date().toISOString(), ended: null, report: null,
    error: null };
  const thread = new BackgroundThread({
    name: jobName(seconds, daemon),
    daemon,
    target: async () => {
      try {
        job.report = await buildReport(seconds, (fraction) => { job.progress = fraction; });
        console.log(`${currentThread().name} (ident ${currentThread().ident}) finished: ` +
          `${job.report.orders} orders, best region ${job.report.bestRegion}`);
      } finally {
        job.ended = new Date().toISOString();
      }
    },
  });
  job.thread = thread;
  thread.start();
  jobs.set(thread.ident, job);
  return thread;
}

const jobName = (seconds, daemon) => `report-${seconds}s${daemon ? '-daemon' : ''}`;

// The same job on a worker. Its progress is not known here (null); its end is learned from
// Redis by this loop, so it is awaited with join(), which holds the process open while it
// waits: harmless, since the server ends only by shutdown()'s process.exit(), and a non-daemon
// remote thread holds the process open anyway.
function startRemoteJob(seconds, daemon) {
  const job = { seconds, progress: null, started: new Date().toISOString(), ended: null,
    report: null, error: null };
  const thread = new BackgroundThread({
    name: jobName(seconds, daemon),
    daemon,
    target: { module: REMOTE_JOB, export: 'report', remote: true },
    args: [seconds],
  });
  job.thread = thread;
  thread.start();
  jobs.set(thread.ident, job);
  thread.join().then(() => {
    job.ended = new Date().toISOString();
    if (thread.exception !== undefined) {
      // The excepthook has printed it.
      job.error = String(thread.exception?.message ?? thread.exception);
      return;
    }
    job.progress = 1;
    job.report = thread.result;
    console.log(`${thread.name} (ident ${thread.ident}) finished on ${thread.remote.worker}: ` +
      `${job.report.orders} orders, best region ${job.report.bestRegion}`);
  });
  return thread;
}

// Jobs whose thread has ended move to the finished list. (Not with `await thread.join()`: a
// pending join from the main thread would hold the process open for a daemon job too.)
function sweep() {
  for (const [ident, job] of jobs) {
    if (job.thread.isAlive()) continue;
    jobs.delete(ident);
    finished.unshift(job);
  }
  finished.length = Math.min(finished.length, KEEP_FINISHED);
}

function describe(thread, job) {
  const remote = REMOTE && {
    worker: thread.remote?.worker ?? null,
    report: job?.report ?? null,
    error: job?.error ?? null,
  };
  return {
    ident: thread.ident,
    name: thread.name,
    nativeId: thread.nativeId,
    daemon: thread.daemon,
    alive: thread.isAlive(),
    progress: job && job.progress !== null ? Math.round(job.progress * 1000) / 1000 : null,
    started: job?.started ?? null,
    ended: job?.ended ?? null,
    ...remote,
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
  if (route === 'GET /threads') return send(res, 200, threadsReport());
  if (route === 'GET /') return send(res, 200, PAGE, 'text/html; charset=utf-8');
  if (['/jobs', '/threads', '/'].includes(url.pathname)) return send(res, 405, { error: `${req.method} not allowed here` });
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
  const waiting = [...jobs.values()].filter((job) => !job.thread.daemon)
    .map((job) => job.thread.name);
  const abandoned = [...jobs.values()].filter((job) => job.thread.daemon)
    .map((job) => job.thread.name);
  console.log(`${signal}: no new connections; waiting up to ${DRAIN_SECONDS}s for ` +
    `${waiting.length} job(s)${waiting.length ? `: ${waiting.join(', ')}` : ''}`);
  if (abandoned.length) console.log(`abandoning daemon job(s): ${abandoned.join(', ')}`);
  const drained = await joinAll(DRAIN_SECONDS);
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
