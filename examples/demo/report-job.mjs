// The demo's job: builds a sales report from generated orders, one page of orders every 100 ms
// for the requested number of seconds (the waits stand for fetching the next page), reporting
// its progress as it goes. `report` is the thread's target: a module target of the server
// (npm run demo), and through report-remote.mjs a remote job (npm run demo:cluster).
import { setTimeout as sleep } from 'node:timers/promises';
import { currentThread } from 'background-thread';

const REGIONS = ['north', 'south', 'east', 'west'];
const PRODUCTS = ['lamp', 'desk', 'chair', 'shelf', 'rug'];
const ORDERS_PER_PAGE = 2000;

// A small deterministic generator (mulberry32), so that a report can be checked.
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Works for `seconds`, calling onProgress(fraction) after each page; resolves with the report.
 * `signal` aborting rejects it (with an AbortError) at the wait for the next page, so a cancel
 * takes effect within a page.
 * @param {number} seconds
 * @param {(fraction: number) => void} onProgress
 * @param {{ seed?: number, signal?: AbortSignal }} [options]
 */
export async function buildReport(seconds, onProgress, { seed = 1, signal } = {}) {
  const pages = Math.max(1, Math.round(seconds * 10));
  const next = random(seed);
  const revenue = Object.fromEntries(REGIONS.map((region) => [region, 0]));
  const units = Object.fromEntries(PRODUCTS.map((product) => [product, 0]));
  const began = performance.now();
  for (let page = 0; page < pages; page++) {
    signal?.throwIfAborted();
    for (let i = 0; i < ORDERS_PER_PAGE; i++) {
      const region = REGIONS[Math.floor(next() * REGIONS.length)];
      const product = PRODUCTS[Math.floor(next() * PRODUCTS.length)];
      const quantity = 1 + Math.floor(next() * 5);
      revenue[region] += quantity * (10 + Math.floor(next() * 90));
      units[product] += quantity;
    }
    onProgress((page + 1) / pages);
    const due = began + ((page + 1) * seconds * 1000) / pages;
    await sleep(Math.max(0, due - performance.now()), undefined, { signal });
  }
  const bestRegion = Object.entries(revenue).sort((a, b) => b[1] - a[1])[0][0];
  return { orders: pages * ORDERS_PER_PAGE, revenue, units, bestRegion };
}

/**
 * The thread's target: the report of a `seconds`-long job. Its progress is a percentage (0 at
 * once, then after each page, to one decimal: 100 before it resolves), through
 * currentThread().reportProgress(); it stops at its thread's cancellation (currentThread().signal).
 * @param {number} seconds
 */
export function report(seconds) {
  const me = currentThread();
  me.reportProgress(0);
  const percent = (fraction) => { me.reportProgress(Math.round(fraction * 1000) / 10); };
  return buildReport(seconds, percent, { signal: me.signal });
}
