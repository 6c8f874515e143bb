// The tracing example (examples/tracing) with a real OpenTelemetry tracer: an HTTP request whose
// handler starts a module thread and a remote thread (a real worker process, which loads the
// subscriber with --import): the spans of the request, the threads, their runs in the isolates
// and the remote job in the worker, and the export's own spans, all share the request's trace id
// and hang from each other as they should. The spans are written to a file by each place.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './helpers/child.mjs';
import { freshQueue, markers, remoteEnv, startWorker, stopWorkers, testRedis } from './helpers/remote.mjs';
import { until, withTimeout } from './helpers/wait.mjs';

const EXAMPLE = join(ROOT, 'examples/tracing');
const redis = await testRedis();
const it = redis === null ? test.skip : test;

it('one trace follows a request into an isolate and onto a worker process', async () => {
  const queue = freshQueue();
  const file = join(markers(), 'spans.jsonl');
  const env = { BACKGROUND_THREAD_REMOTE_ROOT: EXAMPLE, OTEL_SPANS_FILE: file };
  const worker = await startWorker(redis.socket, queue, {
    args: ['--allow', 'report.mjs'], env: { ...env, NODE_OPTIONS: `--import ${join(EXAMPLE, 'otel.mjs')}` },
  });
  const server = spawn(process.execPath, [join(EXAMPLE, 'server.mjs')], {
    cwd: ROOT, env: { ...process.env, ...remoteEnv(redis.socket, queue, env), PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  server.stderr.setEncoding('utf8').on('data', (chunk) => { stderr += chunk; });
  try {
    const port = await withTimeout(new Promise((resolve, reject) => {
      let out = '';
      server.stdout.setEncoding('utf8').on('data', (chunk) => {
        out += chunk;
        const found = /listening on (\d+)/.exec(out);
        if (found) resolve(Number(found[1]));
      });
      server.on('exit', (code) => reject(new Error(`the server exited (${code}):\n${stderr}`)));
    }), 60, 'the server to listen');
    const response = await withTimeout(fetch(`http://127.0.0.1:${port}/report`), 60, 'the response');
    assert.is(response.status, 200, stderr);
    const { traceId, reports } = await response.json();
    assert.is(reports.length, 2);
    assert.match(reports[1], /^remote: done in \d+$/);
    assert.is(reports[1], `remote: done in ${worker.child.pid}`, 'the remote report ran on the worker');
    const spans = () => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line)) : []);
    // The worker's and the request's last spans end after the response is written.
    await until(() => spans().some((s) => s.name.startsWith('GET')) &&
      spans().filter((s) => s.name === 'run report-remote' && s.pid === worker.child.pid).length === 2, 30, 'every span');
    const all = spans();
    assert.ok(all.every((s) => s.traceId === traceId), `one trace id for all:\n${all.map((s) => `${s.name} ${s.traceId}`).join('\n')}`);
    const byId = new Map(all.map((s) => [s.spanId, s]));
    const parentOf = (s) => byId.get(s.parentSpanId)?.name ?? null;
    const one = (name, where) => {
      const found = all.filter((s) => s.name === name && (where === undefined || where(s)));
      assert.is(found.length, 1, `one span ${name}`);
      return found[0];
    };
    const request = one('GET /report');
    assert.is(request.parentSpanId, null, 'the request is the root');
    for (const what of ['local', 'remote']) {
      const thread = one(`thread report-${what}`, (s) => s.pid === server.pid);
      assert.is(parentOf(thread), 'GET /report');
      assert.is(thread.attributes['thread.kind'], what === 'local' ? 'module' : 'remote');
    }
    const isolateRun = one('run report-local', (s) => s.pid === server.pid);
    assert.is(isolateRun.threadId !== 0, true, 'in the isolate');
    assert.is(parentOf(isolateRun), 'thread report-local');
    const jobRun = one('run report-remote', (s) => s.pid === worker.child.pid && s.threadId === 0);
    assert.is(jobRun.attributes['thread.kind'], 'remote');
    assert.type(jobRun.attributes['thread.job_id'], 'string');
    assert.is(parentOf(jobRun), 'thread report-remote', 'the job\'s run hangs from the creator\'s thread span');
    const workerThread = one('thread report-remote', (s) => s.pid === worker.child.pid);
    assert.is(parentOf(workerThread), 'run report-remote');
    const workerIsolateRun = one('run report-remote', (s) => s.pid === worker.child.pid && s.threadId !== 0);
    assert.is(parentOf(workerIsolateRun), 'thread report-remote');
    assert.is(workerIsolateRun.parentSpanId, workerThread.spanId);
    assert.is(one('build local').parentSpanId, isolateRun.spanId, 'the export\'s own span is a child of its run');
    assert.is(one('build remote').parentSpanId, workerIsolateRun.spanId);
  } finally {
    server.kill('SIGKILL');
    await stopWorkers(worker);
  }
});

test.after(async () => { await redis?.stop(); });

test.run();
