// The load of the app-cost job's http measurement (peers/app.mjs): `requests` GETs to
// 127.0.0.1:port over keep-alive connections, `concurrency` at a time, after a tenth as many as
// a warm-up; prints { requests, rates, perSecond }.
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

// A warm-up, then three bursts of a third each: the median burst's rate (one burst caught by
// another process's spike on these shared machines is not the figure).
await burst(Math.round(requests / 10));
const rates = [];
for (let i = 0; i < 3; i++) {
  const t0 = performance.now();
  await burst(Math.round(requests / 3));
  rates.push(Math.round(requests / 3 / ((performance.now() - t0) / 1000)));
}
agent.destroy();
process.stdout.write(`${JSON.stringify({ requests, rates, perSecond: rates.sort((a, b) => a - b)[1] })}\n`);
