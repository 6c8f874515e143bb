// The demo's job: builds a sales report from generated orders, one page of orders every 100 ms
// for the requested number of seconds (the waits stand for fetching the next page), reporting
// its progress as it goes.
import { setTimeout as sleep } from 'node:timers/promises';

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
 * @param {number} seconds
 * @param {(fraction: number) => void} onProgress
 */
export async function buildReport(seconds, onProgress, seed = 1) {
  const pages = Math.max(1, Math.round(seconds * 10));
  const next = random(seed);
  const revenue = Object.fromEntries(REGIONS.map((region) => [region, 0]));
  const units = Object.fromEntries(PRODUCTS.map((product) => [product, 0]));
  const began = performance.now();
  for (let page = 0; page < pages; page++) {
    for (let i = 0; i < ORDERS_PER_PAGE; i++) {
      const region = REGIONS[Math.floor(next() * REGIONS.length)];
      const product = PRODUCTS[Math.floor(next() * PRODUCTS.length)];
      const quantity = 1 + Math.floor(next() * 5);
      revenue[region] += quantity * (10 + Math.floor(next() * 90));
      units[product] += quantity;
    }
    onProgress((page + 1) / pages);
    const due = began + ((page + 1) * seconds * 1000) / pages;
    await sleep(Math.max(0, due - performance.now()));
  }
  const bestRegion = Object.entries(revenue).sort((a, b) => b[1] - a[1])[0][0];
  return { orders: pages * ORDERS_PER_PAGE, revenue, units, bestRegion };
}
