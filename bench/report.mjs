// The report: turns the runner's raw results into rows of cells, median (min-max) over rounds,
// adds one ratio per row and peer (how many times better background-thread's median is than that
// peer's), and writes it out:
//   stdout                      the table of cells, notes on what was measured, the ratio table
//   results.json                the summary (committed): params, machine, rows with per-round
//                               values, cells and ratios; chart.mjs draws chart.svg from it
//   results-samples.json        the same plus every raw sample (git-ignored; --report re-reads it)
// A quick run writes results-quick*.json and chart-quick.svg, an --only / --rounds run
// results-partial*.json and chart-partial.svg, so that only a complete full run overwrites the
// committed figures.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderChart } from './chart.mjs';
import { counts, IN_FLIGHT, jobsFor, US } from './config.mjs';
import { fmt, summarize } from './stats.mjs';

/** One cell: the row's value for each round that gave a result, and their median (min-max). */
function cell(slot, row, missing) {
  if (missing) return { na: missing };
  const params = slot?.params;
  if (!params || params.na) return { na: params?.na ?? 'not measured' };
  const ok = slot.rounds.filter((r) => r.result);
  const said = ok.find((r) => r.result.na);
  if (said) return { na: said.result.na };  // the peer's own n/a (a build without the feature)
  let values;
  try {
    values = ok.map((r) => row.value(r.result));
  } catch {
    return { na: 'not in these results' };  // a row added since these results were taken
  }
  if (!values.length) return { na: `failed: ${slot.rounds[0]?.error ?? 'no result'}`, failed: true };
  return { ...summarize(values), values, rounds: values.length, note: params.note,
    errors: slot.rounds.length - ok.length };
}

const sig4 = (x) => Number(x.toPrecision(4));

/** Per peer, how many times better US's median is (> 1: better, < 1: worse), where both exist. */
function ratiosOf(row) {
  const us = row.cells[US]?.median;
  const out = {};
  for (const [peer, c] of Object.entries(row.cells)) {
    if (peer === US || !(us > 0) || !(c.median > 0)) continue;
    out[peer] = sig4(row.better === 'lower' ? c.median / us : us / c.median);
  }
  return out;
}

/** Rows of cells from raw results (runner.mjs), for the jobs that ran. */
export function rowsFrom(raw, jobs, peers, missing) {
  const rows = [];
  for (const job of jobs.filter((j) => raw[j.id])) {
    for (const row of job.rows) {
      const cells = Object.fromEntries(peers.map((p) =>
        [p.id, cell(raw[job.id][p.id], row, missing[p.id])]));
      rows.push({ id: row.id, job: job.id, label: row.label, unit: row.unit, better: row.better,
        cells });
    }
  }
  return rows;
}

/** The summary: what the run was (meta: see run.mjs) and its rows, each with its ratios. */
export function summaryOf(meta, rows) {
  return { schema: 2, ...meta, rows: rows.map((r) => ({ ...r, ratios: ratiosOf(r) })) };
}

/**
 * A summary from a results file: a summary as written, or a file with raw samples (a
 * results-samples.json, or a results.json of schema 1, which held them), whose rows are
 * computed again from the samples with the jobs of its own config.
 */
export function fromFile(file) {
  const { raw, rows, ratios, machineLine, schema, ...meta } = file;
  meta.partial ??= Boolean(raw) && isPartial(file);
  meta.baseline ??= null;
  if (!raw) return { summary: summaryOf(meta, rows), raw: null };
  const missing = Object.fromEntries(file.peers.filter((p) => !p.available)
    .map((p) => [p.id, p.reason]));
  return { summary: summaryOf(meta, rowsFrom(raw, jobsFor(file.config), file.peers, missing)),
    raw };
}

/** Whether a schema-1 file came from --only or --rounds (it did not say). */
function isPartial(file) {
  const C = counts({ quick: file.mode === 'quick' });
  return file.config.rounds !== C.rounds || jobsFor(C).some((j) => !file.raw[j.id]);
}

// ---------------------------------------------------------------------------------------------
// Text.
const cellText = (c) => {
  if (!c) return '';
  if (c.na) return `n/a: ${c.na}`;
  const range = c.rounds > 1 ? ` (${fmt(c.min)}-${fmt(c.max)})` : '';
  return `${fmt(c.median)}${range}${c.note ? ` ${c.note}` : ''}${c.errors ? ' !' : ''}`;
};
const ratioText = (x) => (x === undefined ? '' : x >= 1 ? `${fmt(x)}x better` : `${fmt(1 / x)}x worse`);

function table(header, body) {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cols) => cols.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)];
}

const build = (b) => `commit ${b.commit ?? '?'}${b.dirtySources ? ' (+ uncommitted native/src changes)' : ''}, addon ${b.addon} built ${b.addonMtime ?? '?'}`;

/** What was measured, for the rows present: counts come from the config, not from prose. */
function notes(s) {
  const C = s.config;
  const has = (job) => s.rows.some((r) => r.job === job);
  const out = [];
  const workerAlive = Object.entries(C.workerAlive).map(([a, w]) => `${w} for the ${Number(a).toLocaleString('en-US')} row`).join(', ');
  out.push(`@N: worker_threads measured with N Workers alive/idle (${workerAlive}; lag: ${C.workerIdle}); a Worker is an isolate + event loop, ~8 MiB each.`);
  out.push(`latency rows: per round, the median of ${Object.entries(C.latency).map(([p, [n]]) => `${n} (${p})`).join(', ')} samples; RSS rounds: ${C.rssRounds}, lag rounds: ${C.lagRounds} x ${C.lagSeconds} s (1 ms timer chain).`);
  if (has('module')) {
    out.push(`module target, fresh rows: per round, the median of ${C.moduleLatency[0]} starts, one at a time; background-thread: new BackgroundThread({ target: { module, export }, isolate: 'fresh' }) (a new Worker each); worker_threads: new Worker(peers/plain-worker.mjs), which imports the same module (peers/module-work.mjs) and calls the same export.`);
  }
  if (has('warm')) {
    out.push(`module target, warm rows: per round, the median of ${Object.entries(C.warmLatency).map(([p, [n, w]]) => `${n} (${p}, after ${w})`).join(', ')} starts, one at a time, after the warm-up ones; background-thread: the default policy (a warm isolate); piscina: pool.run() -> the task's first line on a warm pool (maxThreads = minThreads = ${C.cores ?? 'cores'}: its default minThreads is half and idleTimeout 0 ends the rest at once), peers/piscina-task.mjs calling the same export; worker_threads: a fresh plain Worker each, for scale.`);
  }
  if (has('warm-inflight') || has('warm-inflight-cap')) {
    out.push(`module target, warm, ${IN_FLIGHT} in flight: ${Object.entries(C.warmInflight).map(([p, n]) => `${n} (${p})`).join(', ')} start+joins of an empty export after a warm-up burst of ${IN_FLIGHT} in flight; background-thread: the default policy (maxIsolates Infinity: ~${IN_FLIGHT} isolates), and with setIsolatePool({ maxIsolates: ${C.cores ?? 'cores'} }) (starts wait for a free isolate); piscina: maxThreads ${C.cores ?? 'cores'} in both rows (the same measurement, taken again); ${C.poolRounds ?? C.rounds} round${(C.poolRounds ?? C.rounds) === 1 ? '' : 's'}.`);
  }
  if (has('cpu') || has('cpu8')) {
    const sizes = [has('cpu') && `2 x ${C.cpuMs} ms`, has('cpu8') && C.cpu8 && `${C.cpu8[0]} x ${C.cpu8[1]} ms`].filter(Boolean).join(' and ');
    out.push(`CPU-bound rows (${sizes}): runs of a loop calibrated in each child to ~ms on its main thread (peers/module-work.mjs spin; the same xorshift loop in Python and C), first one after the other, then all at once; wall / ideal: the at-once wall over ideal = the serial wall / min(cores, tasks) (the target is within 1.10x). background-thread: event-loop targets (they share the loop: one runs after the other), then module targets (warm isolates, left by a warm-up with 1% of the work); worker_threads: calls on the main thread, then a plain Worker each; piscina: calls on the main thread, then tasks of a warm pool of ${C.cores ?? 'cores'} threads; Python: calls, then threading.Threads (the GIL); pthreads: calls, then a pthread each (what the machine allows).`);
  }
  if (has('idle-pool')) {
    out.push(`RSS per idle isolate: (VmRSS with the pool idle - VmRSS before) / idle isolates, after ${C.idlePool} module threads ran at once (peers/module-work.mjs gather) and ended; background-thread: setIsolatePool({ maxIdle: ${C.idlePool} }), divided by isolatePool().idle; piscina: a pool of ${C.idlePool} threads after ${C.idlePool} tasks at once; worker_threads: RSS per live Worker (${C.idlePool} alive), what a fresh Worker costs while it runs.`);
  }
  if (has('remote')) {
    const R = C.remote;
    out.push(`remote rows: one child with its own redis-server (unix socket) and ${R.workers} worker processes (runWorker(), concurrency ${C.cores}, beside a plain BullMQ Worker on another queue); per round, the median of ${R.latency[0]} runs one at a time after ${R.latency[1]}, and ${R.jobs} start+joins ${IN_FLIGHT} in flight after a warm-up burst; the export's first line returns process.hrtime.bigint() (CLOCK_MONOTONIC: one clock for every process of the machine). "nothing else remote alive": one thread after the other (the package keeps a queue's connections open 5 s after its last thread); "beside a live remote thread": a delayed job holds them open. BullMQ alone: Queue.add() -> a plain processor's first line, waitUntilFinished() for the end, the package's job options.`);
  }
  if (s.baseline) out.push(`background-thread (baseline): the same peer (peers/background-thread.mjs, bt's counts) importing the package built in ${s.baseline.dir}.`);
  if (s.rows.some((r) => Object.values(r.cells).some((c) => c.errors))) out.push('!: some rounds of that cell failed (see results-samples.json); the cell uses the others.');
  return out;
}

/** The console report of a summary. */
export function reportText(s) {
  const m = s.machine;
  const peers = s.peers;
  const us = peers.find((p) => p.id === US);
  const others = peers.filter((p) => p.id !== US);
  const out = [];
  out.push(`background-thread benchmarks (${s.mode}: ${s.config.rounds} rounds; cells: median (min-max) over rounds)`);
  out.push(`machine: ${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB RAM; ${m.os}; node ${m.node}; ${m.python ?? 'no python3'}; ${m.cc ?? 'no cc'}; stack rlimit ${m.stackRlimitKiB ?? '?'} KiB`);
  out.push(`package: ${build(s.package)}`);
  if (s.baseline) out.push(`baseline: ${s.baseline.dir}, ${build(s.baseline)}`);
  out.push('');
  out.push(...table(['', ...peers.map((p) => p.label)], s.rows.map((r) => [`${r.label} (${r.unit})`, ...peers.map((p) => cellText(r.cells[p.id]))])));
  out.push('');
  out.push(...notes(s));
  out.push('');
  out.push(`${us.label} against each peer: how many times better its median is (lower is better for µs, ms and KiB; higher for threads/s and x)`);
  out.push(...table(['', ...others.map((p) => `vs ${p.label}`)], s.rows.map((r) => [r.label, ...others.map((p) => ratioText(r.ratios[p.id]))])));
  if (s.otherProcessesCpuShare !== null && s.otherProcessesCpuShare > 0.1) {
    out.push(`WARNING: other processes used ${Math.round(s.otherProcessesCpuShare * 100)}% of the ${m.cores} CPUs during the run (load average ${s.loadAverageAtStart.toFixed(1)} at the start); figures are noisier and slower than on an idle machine.`);
  }
  if (s.rebuiltDuringRun) out.push(`WARNING: the addon was rebuilt during the run (it was built ${s.package.addonMtime} when the run began); figures mix two builds.`);
  out.push('');
  const share = s.otherProcessesCpuShare;
  out.push(`run time: ${s.runSeconds.toFixed(1)} s${share !== null ? `; other processes' CPU share during the run: ${Math.round(share * 100)}%` : ''}`);
  return `${out.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// Files.
/** JSON with indentation, but arrays of numbers on one line (the per-round values, the samples). */
function compactJson(value) {
  return JSON.stringify(value, null, 1).replace(/\[\s*(-?[\d.e+-]+(?:,\s*-?[\d.e+-]+)*)\s*\]/g, (_, xs) => `[${xs.replace(/\s+/g, '')}]`);
}

/**
 * Writes the summary and the chart into `dir` and, given the raw results, the samples file.
 * Returns the paths written.
 */
export const suffixOf = (summary) => (summary.mode === 'quick' ? '-quick' : summary.partial ? '-partial' : '');

export function writeReport(summary, raw, dir) {
  const suffix = suffixOf(summary);
  const files = { summary: join(dir, `results${suffix}.json`), chart: join(dir, `chart${suffix}.svg`) };
  // --out DIR need not exist (else the run is lost at the end).
  mkdirSync(dir, { recursive: true });
  writeFileSync(files.summary, `${compactJson(summary)}\n`);
  writeFileSync(files.chart, renderChart(summary));
  if (raw) {
    files.samples = join(dir, `results${suffix}-samples.json`);
    writeFileSync(files.samples, `${compactJson({ ...summary, raw })}\n`);
  }
  return Object.values(files);
}
