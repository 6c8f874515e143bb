// setImmediate peer, the no-thread floor: "start" = setImmediate(cb), "first line" and "join" =
// the callback ran. It is what any scheme that runs the target on the event loop costs at least.
import { done, fail, lagResult, lanes, nowUs, params, round1 } from './common.mjs';

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
  await latency(params.warmup);
  const { samples, startCall } = await latency(params.n);
  done({ samples: samples.map(round1), startCall: startCall.map(round1) });
} else if (metric === 'throughput') {
  await lanes(params.warmup, params.inFlight, turn);
  done(await lanes(params.n, params.inFlight, turn));
} else if (metric === 'lag') {
  done(await lagResult(0, params.seconds));
} else {
  fail(`unknown metric ${metric}`);
}
