// The load of the app-cost job's http measurement (peers/app.mjs, which counts its own CPU time
// meanwhile): `requests` GETs to 127.0.0.1:port over keep-alive connections, `concurrency` at a
// time; prints { requests, seconds }.
import { Agent, get } from 'node:http';

const { port, requests, concurrency } = JSON.parse(process.argv[2]);
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });

const once = () => new Promise((resolve, reject) => {
  get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
    res.resume();
    res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
  }).on('error', reject);
});

async function burst(n) {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next++ < n) await once();
  }));
}

const t0 = performance.now();
await burst(requests);
agent.destroy();
process.stdout.write(`${JSON.stringify({ requests, seconds: (performance.now() - t0) / 1000 })}\n`);
