// npm run bench: background-thread against worker_threads, piscina (module targets and CPU-bound
// work), setImmediate, Python's threading and raw pthreads, and its remote threads against its
// local module targets and BullMQ alone (needs redis-server: else n/a), in one run on one machine
// (full: 5 rounds, about 8 minutes; --quick: fewer rounds and smaller counts, about 2 minutes).
//
//   node bench/run.mjs [--quick] [--rounds N] [--only latency,seq,...] [--out DIR] [--baseline DIR]
//   node bench/run.mjs --report FILE [--out DIR]
//
// --baseline DIR  also measures the package built in DIR (another checkout of this repository,
//                 with dist/ and build/Release), as the peer "background-thread (baseline)": the
//                 ratio table then compares this checkout with it row by row, in the same run.
// --report FILE   measures nothing: re-renders the table, the summary and the chart from a
//                 results file (a summary, a results-samples.json, or an old results.json with
//                 raw samples, whose rows are computed again from them).
//
// Files: config.mjs (peers, counts, jobs and rows), runner.mjs (the children and the rounds),
// report.mjs (cells, ratios, the table and the files it writes), chart.mjs (the SVG), stats.mjs,
// peers/* (one measurement per child process; pthreads.c is compiled with `cc -O2 -pthread`
// into a temporary directory; a peer whose tool is missing shows "n/a" with the reason).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { counts, jobsFor, PEERS, withBaseline } from './config.mjs';
import { fromFile, reportText, rowsFrom, suffixOf, summaryOf, writeReport } from './report.mjs';
import { measure, root } from './runner.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const usage = (why) => {
  const ids = jobsFor(counts({ quick: false })).map((j) => j.id).join(',');
  (why ? process.stderr : process.stdout).write(`${why ? `bench: ${why}\n` : ''}usage: node bench/run.mjs [--quick] [--rounds N>=1] [--only ${ids}] [--out DIR] [--baseline DIR]\n       node bench/run.mjs --report FILE [--out DIR]\n`);
  process.exit(why ? 2 : 0);
};
let opts;
try {
  ({ values: opts } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      only: { type: 'string' },
      out: { type: 'string', default: here },
      baseline: { type: 'string' },
      report: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }));
} catch (error) {
  usage(error.message);
}
if (opts.help) usage(null);
const done = (summary, raw) => {
  process.stdout.write(reportText(summary));
  const files = writeReport(summary, raw, opts.out);
  process.stdout.write(`wrote ${files.map((f) => (f.startsWith(`${root}/`) ? relative(root, f) : f)).join(', ')}\n`);
};

if (opts.report) {
  const { summary, raw } = fromFile(JSON.parse(readFileSync(opts.report, 'utf8')));
  // The samples file is only rewritten when it is not the one being read.
  const samples = raw && resolve(opts.report) !== resolve(opts.out, `results${suffixOf(summary)}-samples.json`);
  done(summary, samples ? raw : null);
  process.exit(0);
}

const C = counts(opts);
const baseline = opts.baseline ? resolve(opts.baseline) : null;
if (baseline && !existsSync(join(baseline, 'dist/index.mjs'))) usage(`--baseline ${opts.baseline}: no dist/index.mjs there (build it: npm run compile)`);
const peers = withBaseline(PEERS, baseline);
const all = jobsFor(C);
const only = opts.only ? new Set(opts.only.split(',')) : null;
const jobs = only ? all.filter((j) => only.has(j.id)) : all;
const unknown = only ? [...only].filter((id) => !all.some((j) => j.id === id)) : [];
if (unknown.length) usage(`--only: no such job: ${unknown.join(', ')}`);
if (!jobs.length || !(C.rounds >= 1)) usage('nothing to run');

const mode = opts.quick ? 'quick' : 'full';
const run = await measure({ jobs, peers, mode });
const summary = summaryOf({
  date: new Date().toISOString(),
  mode,
  runSeconds: Math.round(performance.now() / 100) / 10,
  machine: run.info,
  package: run.buildBefore,
  rebuiltDuringRun: run.buildAfter.addonMtime !== run.buildBefore.addonMtime,
  otherProcessesCpuShare: run.otherLoad === null ? null : Math.round(run.otherLoad * 1000) / 1000,
  loadAverageAtStart: run.loadBefore,
  config: C,
  peers: peers.map((p) => ({
    id: p.id, label: p.label, available: !run.missing[p.id], reason: run.missing[p.id] ?? null,
    ...(p.package ? { package: p.package } : {}),
  })),
  partial: Boolean(opts.only || opts.rounds),
  baseline: run.baseline,
}, rowsFrom(run.results, jobs, peers, run.missing));
done(summary, run.results);
