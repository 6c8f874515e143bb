// The control rows (cancellation and progress), for background-thread and piscina. One process,
// one measurement: { metric: 'control', n, reports } ->
//   background-thread: { progressModule, progressFunction: { seconds, perSecond }, cancelFunction,
//   cancelModule, cancelTerminate: [µs, ...] (cancel() -> join() resolved) }
//   piscina: { abort: [µs, ...] (AbortController.abort() -> run()'s rejection) }
import { nowUs } from './common.mjs';

const WORK = new URL('./control-work.mjs', import.meta.url).href;

/** `reports` progress reports of one thread, each delivered to a listener: wall time. */
async function progress(BackgroundThread, target, reports) {
  let seen = 0;
  const t = new BackgroundThread({ target, args: [reports] });
  t.on('progress', () => { seen++; });
  const t0 = nowUs();
  t.start();
  await t.join();
  const seconds = (nowUs() - t0) / 1e6;
  if (seen !== reports) throw new Error(`${seen} of ${reports} reports delivered`);
  return { seconds, perSecond: Math.round(reports / seconds) };
}

/** cancel() -> join() resolved, n times, once each thread's target has begun ('began'). */
async function cancelLatency(BackgroundThread, options, n) {
  const samples = [];
  for (let i = 0; i < n; i++) {
    const t = new BackgroundThread(options());
    const began = new Promise((resolve) => { t.once('progress', resolve); });
    t.start();
    await began;
    const t0 = nowUs();
    t.cancel();
    await t.join();
    samples.push(nowUs() - t0);
    if (t.exception?.code !== 'ERR_THREAD_CANCELLED') throw new Error(`not cancelled: ${t.exception}`);
  }
  return samples;
}

export async function backgroundThread(pkg, { n, reports }) {
  const { BackgroundThread, currentThread } = pkg;
  const module = (exportName, extra = {}) => () =>
    ({ target: { module: WORK, export: exportName }, ...extra });
  // Warm-up: an isolate up and the module loaded.
  await progress(BackgroundThread, { module: WORK, export: 'reportMany' }, 100);
  return {
    progressModule: await progress(BackgroundThread, { module: WORK, export: 'reportMany' }, reports),
    progressFunction: await progress(BackgroundThread, (count) => {
      const me = currentThread();
      for (let i = 0; i < count; i++) me.reportProgress(i);
    }, reports),
    cancelFunction: await cancelLatency(BackgroundThread, () => ({
      target: () => {
        const me = currentThread();
        me.reportProgress('began');
        return new Promise((resolve) => { me.signal.addEventListener('abort', resolve, { once: true }); });
      },
    }), n),
    cancelModule: await cancelLatency(BackgroundThread, module('waitForAbort'), n),
    cancelTerminate: await cancelLatency(BackgroundThread, module('spinForever', { cancelGrace: 0 }),
      Math.max(3, Math.round(n / 5))),
  };
}

export async function piscina(Piscina, threads, { n }) {
  const pool = new Piscina({ filename: WORK, maxThreads: threads, minThreads: threads });
  const samples = [];
  for (let i = 0; i < n; i++) {
    const controller = new AbortController();
    const running = pool.run(null, { signal: controller.signal });
    await new Promise((resolve) => { setTimeout(resolve, 5); });  // the task has begun
    const t0 = nowUs();
    controller.abort();
    await running.catch(() => {});
    samples.push(nowUs() - t0);
  }
  await pool.destroy();
  return { abort: samples };
}
