// setImmediate peer, the no-thread floor: "start" = setImmediate(cb), "first line" and "join" =
// the callback ran. It is what any scheme that runs the target on the event loop costs at least.
import { done, fail, lagResult, lanes, nowUs, params, warmedUp } from './common.mjs';

async function latency(n) {
  const samples = [];
  const startCall = [];
  for (let i = 0; i < n; i++) {
    const ran = new Promise((resolve) => {
      const t0 = nowUs();
      setImmediate(() => resolve(nowUs() - t0));
      startCall.push(nowUs() - t0);
    });
    samples.push(await ran);
  }
  return { samples, startCall };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

const { metric } = params;
if (metric === 'latency') {
  await warmedUp(latency);
} else if (metric === 'throughput') {
  await warmedUp((n) => lanes(n, params.inFlight, turn));
} else if (metric === 'lag') {
  done(await lagResult(0, params.seconds));
} else {
  fail(`unknown metric ${metric}`);
}
