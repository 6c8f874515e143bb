// A first measurement of the core (the full suite against peers is `npm run bench`'s job):
// start -> first line of the target, and start+join throughput, sequential and 100 in flight.
// Run: node bench/core.mjs [rounds]
import { BackgroundThread } from 'background-thread';

const rounds = Number(process.argv[2] ?? 5);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function startToTarget(n) {
  const samples = [];
  for (let i = 0; i < n; i++) {
    let began = 0;
    let reached;
    const ran = new Promise((resolve) => { reached = resolve; });
    const t = new BackgroundThread({ target: () => reached(performance.now() - began) });
    began = performance.now();
    t.start();
    samples.push(await ran);
    await t.join();
  }
  return median(samples) * 1000;
}

async function throughput(n, inFlight) {
  const began = performance.now();
  let started = 0;
  async function lane() {
    while (started < n) {
      started++;
      const t = new BackgroundThread({ target: () => {} });
      t.start();
      await t.join();
    }
  }
  await Promise.all(Array.from({ length: inFlight }, lane));
  return n / ((performance.now() - began) / 1000);
}

await startToTarget(200);  // warm-up
const rows = { 'start -> target (µs, median)': [], 'start+join sequential (threads/s)': [], 'start+join 100 in flight (threads/s)': [] };
for (let r = 0; r < rounds; r++) {
  rows['start -> target (µs, median)'].push(await startToTarget(1000));
  rows['start+join sequential (threads/s)'].push(await throughput(5000, 1));
  rows['start+join 100 in flight (threads/s)'].push(await throughput(20000, 100));
}
for (const [name, values] of Object.entries(rows)) {
  console.log(`${name.padEnd(40)} median ${median(values).toFixed(1).padStart(9)}  min ${Math.min(...values).toFixed(1).padStart(9)}  max ${Math.max(...values).toFixed(1).padStart(9)}`);
}
