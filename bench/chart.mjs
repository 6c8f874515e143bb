// The bench's chart, an SVG written without dependencies: horizontal bars per peer on a log
// scale, one panel for start -> first line of the target (µs, lower is better; when the results
// have module-target rows, a module target's start is the lighter bar of each group, fresh and
// then warm: for worker_threads a plain Worker running the same module, for piscina a task of a
// warm pool, which only has the warm bar) and one for start+join throughput (threads/s, higher
// is better: 100 in flight, then sequential and a warm module target's, 100 in flight, lighter).
// Bars are per-round medians; the thin whiskers span min to max. With a baseline peer
// (run.mjs --baseline), it gets its own bars below background-thread's. A third panel, when the
// results have the app-cost rows: the application's speed beside the package, per Node version.
//
//   node bench/chart.mjs [results.json] [chart.svg]   re-renders from a summary
//
// Hand-written, not a charting library: two panels of log-scale bars are ~200 lines of string
// templates with no dependency, while the libraries that write SVG in Node (vega + vega-lite, or
// d3 with a DOM such as jsdom) add megabytes of dependencies and a spec of similar length.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt } from './stats.mjs';

const COLORS = { bt: '#e8590c', baseline: '#f59f00', worker: '#1971c2', piscina: '#0c8599', immediate: '#868e96', python: '#2f9e44', pthreads: '#7048e8' };
const FONT = 'system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif';
const W = 900;
const LEFT = 172;   // peer labels
const RIGHT = 40;
const PLOT = W - LEFT - RIGHT;

/** fmt, but 445k and 1.38M from 100,000 up: the chart has less room than the table. */
const short = (x) => (x >= 1e6 ? `${(x / 1e6).toPrecision(3)}M` : x >= 1e5 ? `${Math.round(x / 1e3)}k` : fmt(x));

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function text(x, y, s, { size = 13, anchor = 'start', weight = 'normal', fill = '#212529', style = '' } = {}) {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" font-size="${size}" text-anchor="${anchor}" font-weight="${weight}" fill="${fill}"${style ? ` font-style="${style}"` : ''}>${esc(s)}</text>`;
}

/** Log-scale domain covering `values`, widened to whole decades. */
function domain(values) {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const a = Math.floor(Math.log10(lo) - 0.15);
  let b = Math.ceil(Math.log10(hi) + 0.05);
  if (b <= a) b = a + 1;
  return [a, b];
}

const tickLabel = (exp, unit) => {
  const v = 10 ** exp;
  const s = v >= 1e6 ? `${v / 1e6}M` : v >= 1e3 ? `${v / 1e3}k` : String(v);
  return unit ? `${s} ${unit}` : s;
};

/**
 * One panel. series: [{ key, label, opacity }] (bars per group); groups: peers with
 * cells[key] = { median, min, max } or { na }.
 */
function panel(y0, { title, subtitle, unit, axisLabel, series, groups }) {
  const parts = [];
  const barH = series.length > 1 ? 15 : 20;
  const gap = series.length > 1 ? 3 : 0;
  const groupH = series.length * barH + (series.length - 1) * gap + 16;
  parts.push(text(14, y0 + 18, title, { size: 16, weight: 'bold' }));
  parts.push(text(14, y0 + 38, subtitle, { size: 12.5, fill: '#495057' }));
  // Legend for grouped series.
  if (series.length > 1) {
    let lx = W - RIGHT;
    for (const s of [...series].reverse()) {
      const w = s.label.length * 6.6 + 24;
      lx -= w;
      parts.push(`<rect x="${lx}" y="${y0 + 28}" width="12" height="12" fill="#495057" fill-opacity="${s.opacity}"/>`);
      parts.push(text(lx + 16, y0 + 38.5, s.label, { size: 12, fill: '#495057' }));
      lx -= 6;
    }
  }
  const top = y0 + 52;
  const values = groups.flatMap((g) => series.flatMap((s) => {
    const c = g.cells[s.key];
    return c && !c.na ? [c.min, c.max, c.median] : [];
  })).filter((v) => v > 0);
  const plotH = groups.length * groupH;
  if (!values.length) {
    parts.push(text(LEFT, top + 20, 'no data', { fill: '#868e96' }));
    return { svg: parts.join('\n'), height: 52 + 40 };
  }
  const [a, b] = domain(values);
  const x = (v) => LEFT + ((Math.log10(v) - a) / (b - a)) * PLOT;
  // Grid: decades (solid) and 2x, 5x (faint).
  for (let e = a; e <= b; e++) {
    parts.push(`<line x1="${x(10 ** e).toFixed(1)}" y1="${top - 4}" x2="${x(10 ** e).toFixed(1)}" y2="${top + plotH}" stroke="#ced4da" stroke-width="1"/>`);
    parts.push(text(x(10 ** e), top + plotH + 16, tickLabel(e, ''), { size: 12, anchor: 'middle', fill: '#495057' }));
    if (e < b) {
      for (const m of [2, 5]) {
        const xm = x(m * 10 ** e).toFixed(1);
        parts.push(`<line x1="${xm}" y1="${top - 4}" x2="${xm}" y2="${top + plotH}" stroke="#f1f3f5" stroke-width="1"/>`);
      }
    }
  }
  parts.push(`<line x1="${LEFT}" y1="${top - 4}" x2="${LEFT}" y2="${top + plotH}" stroke="#868e96" stroke-width="1"/>`);
  parts.push(text(LEFT + PLOT / 2, top + plotH + 34, axisLabel, { size: 12.5, anchor: 'middle', fill: '#495057' }));

  groups.forEach((g, gi) => {
    const gy = top + gi * groupH + 8;
    const color = COLORS[g.id] ?? '#495057';
    const isUs = g.id === 'bt';
    parts.push(text(LEFT - 10, gy + (series.length * barH + (series.length - 1) * gap) / 2 + 4.5, g.label, { size: 13.5, anchor: 'end', weight: isUs ? 'bold' : 'normal' }));
    series.forEach((s, si) => {
      const by = gy + si * (barH + gap);
      const c = g.cells[s.key];
      if (!c || c.na) {
        parts.push(text(LEFT + 8, by + barH / 2 + 4.5, `n/a${c?.na ? `: ${c.na}` : ''}`, { size: 12, fill: '#868e96', style: 'italic' }));
        return;
      }
      const xe = Math.max(LEFT + 1, x(c.median));
      parts.push(`<rect x="${LEFT}" y="${by}" width="${(xe - LEFT).toFixed(1)}" height="${barH}" fill="${color}" fill-opacity="${s.opacity}" rx="2"/>`);
      if (c.max > c.min) {
        const wy = by + barH / 2;
        parts.push(`<line x1="${x(c.min).toFixed(1)}" y1="${wy}" x2="${x(c.max).toFixed(1)}" y2="${wy}" stroke="#212529" stroke-width="1.2"/>`);
        for (const v of [c.min, c.max]) parts.push(`<line x1="${x(v).toFixed(1)}" y1="${wy - 4}" x2="${x(v).toFixed(1)}" y2="${wy + 4}" stroke="#212529" stroke-width="1.2"/>`);
      }
      const label = `${short(c.median)}${unit.startsWith('/') ? '' : ' '}${unit}${series.length > 1 ? `  ${s.short}` : ''}`;
      const size = series.length > 1 ? 12 : 13;
      const room = LEFT + PLOT - Math.max(xe, x(c.max));
      if (room > label.length * 7 + 10) {
        parts.push(text(Math.max(xe, x(c.max)) + 6, by + barH / 2 + 4.5, label, { size, weight: isUs ? 'bold' : 'normal' }));
      } else {
        // Inside the bar: white on a full bar, dark on a light one.
        parts.push(text(Math.min(xe, x(c.min)) - 6, by + barH / 2 + 4.5, label, { size, anchor: 'end', weight: 'bold', fill: s.opacity < 0.6 ? '#212529' : '#fff' }));
      }
    });
  });
  return { svg: parts.join('\n'), height: 52 + plotH + 44 };
}

export function renderChart(report) {
  const row = (id) => report.rows.find((r) => r.id === id);
  const peers = report.peers;
  const cellsOf = (id, peer) => row(id)?.cells?.[peer.id];
  // worker_threads' cells in the warm rows are fresh Workers, for scale: no warm bar for them.
  const cellOf = (k, p) => (p.id === 'worker' && k.startsWith('warm-') ? { na: 'a fresh Worker each (bar above)' } : cellsOf(k, p));
  const groups = (keys) => peers.map((p) => ({
    id: p.id,
    label: p.id === 'baseline' ? 'baseline build' : p.label,  // the full label overflows LEFT
    cells: Object.fromEntries(keys.map((k) => [k, cellOf(k, p)])),
  }));
  const inflight = row('inflight');
  const warmInflight = row('warm-inflight');
  const module = row('module-latency');
  const warm = row('warm-latency');
  const latencyKeys = ['latency', ...(module ? ['module-latency'] : []), ...(warm ? ['warm-latency'] : [])];
  const panels = [
    {
      title: 'start() -> first line of the target',
      subtitle: 'µs, sequential, one thread at a time; lower is better',
      unit: 'µs',
      axisLabel: 'µs (log scale)',
      series: latencyKeys.length > 1
        ? [
          { key: 'latency', label: 'function target (Worker: eval)', short: '', opacity: 0.9 },
          { key: 'module-latency', label: 'module target, fresh', short: 'fresh', opacity: 0.55 },
          { key: 'warm-latency', label: 'warm', short: 'warm', opacity: 0.3 },
        ].filter((x) => latencyKeys.includes(x.key))
        : [{ key: 'latency', label: 'latency', opacity: 0.9 }],
      groups: groups(latencyKeys),
    },
    {
      title: 'start() + join() throughput',
      subtitle: 'threads/s; higher is better',
      unit: '/s',
      axisLabel: 'threads per second (log scale)',
      series: [
        { key: 'inflight', label: inflight ? inflight.label.replace('start+join, ', '') : '100 in flight', short: '', opacity: 0.9 },
        { key: 'seq', label: 'sequential', short: 'seq', opacity: 0.55 },
        ...(warmInflight ? [{ key: 'warm-inflight', label: 'module target, warm, 100 in flight', short: 'warm module', opacity: 0.3 }] : []),
      ],
      groups: groups(['inflight', 'seq', ...(warmInflight ? ['warm-inflight'] : [])]),
    },
  ];
  // Cost to the app (the app-cost job): the app's speed with the package beside it / without.
  const appRows = report.rows.filter((r) => /^app-(await|http)-\d+-before$/.test(r.id));
  if (appRows.length) {
    const modes = [['imported', 'imported', 0.3], ['thread', 'one thread run', 0.55], ['daemon', 'one daemon thread run', 0.9]];
    panels.push({
      title: 'cost to the app: its speed beside the package / without',
      subtitle: 'x (1 = no cost; CPU time per await inverted, http requests per CPU second); higher is better',
      unit: 'x',
      axisLabel: 'x (log scale)',
      series: modes.map(([key, label, opacity]) => ({ key, label, short: key, opacity })),
      groups: appRows.map((r) => {
        const [, what, node] = r.id.split('-');
        return {
          id: 'bt',
          label: `Node ${node}, ${what === 'await' ? 'await' : 'http server'}`,
          cells: Object.fromEntries(modes.map(([key]) => [key, row(`app-${what}-${node}-${key}`)?.cells?.bt])),
        };
      }),
    });
  }
  const title = `background-thread vs ${peers.some((p) => p.id === 'baseline') ? 'its baseline, ' : ''}${peers.filter((p) => p.id !== 'bt' && p.id !== 'baseline').map((p) => p.label).join(', ')}`;
  const parts = [];
  let y = 34;
  parts.push(text(W / 2, 24, title, { size: 17, weight: 'bold', anchor: 'middle' }));
  for (const p of panels) {
    y += 4;
    const { svg, height } = panel(y, p);
    parts.push(svg);
    y += height;
  }
  // Footer: machine and run.
  const date = report.date ? report.date.slice(0, 10) : '';
  const m = report.machine ?? {};
  const foot1 = `${m.cpu ?? '?'}, ${m.cores ?? '?'} cores, ${m.memGiB ?? '?'} GiB; ${m.os ?? ''}`;
  const foot2 = `node ${m.node ?? '?'}; ${m.python ?? 'no python3'}; ${m.cc ?? 'no cc'}; ${report.mode} run, ${report.config?.rounds ?? '?'} rounds, ${date}; whiskers: min-max over rounds`;
  y += 6;
  parts.push(text(W / 2, y, foot1, { size: 11, anchor: 'middle', fill: '#868e96' }));
  parts.push(text(W / 2, y + 15, foot2, { size: 11, anchor: 'middle', fill: '#868e96' }));
  const H = Math.ceil(y + 26);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family='${FONT}'>
<rect width="${W}" height="${H}" fill="#ffffff"/>
${parts.join('\n')}
</svg>
`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const here = dirname(fileURLToPath(import.meta.url));
  const input = process.argv[2] ?? join(here, 'results.json');
  const output = process.argv[3] ?? join(here, 'chart.svg');
  writeFileSync(output, renderChart(JSON.parse(readFileSync(input, 'utf8'))));
  console.log(`wrote ${output}`);
}
