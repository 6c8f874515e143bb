// Run and wait times of this loop's recent module threads, for isolatePool(): the times of the
// last WINDOW threads that ended, in two ring buffers written once per thread (no allocation, no
// sorting on the hot path), summarised only when isolatePool() asks.

/**
 * How many module threads the summaries cover at most: the most recent that ended. Large enough
 * for a p99 that means something, small enough to sort at each isolatePool() call (microseconds).
 */
export const WINDOW = 1000;

/** A summary of times in milliseconds; with no thread yet, `count` is 0 and the rest NaN. */
export interface TimeSummary {
  /** How many module threads it covers: those that ended, at most the last 1,000. */
  count: number;
  /** Their mean. */
  mean: number;
  /** Their median (nearest rank: a time one of them took). */
  p50: number;
  /** Their 99th percentile (nearest rank). */
  p99: number;
}

class TimeWindow {
  readonly #times = new Float64Array(WINDOW);
  #next = 0;
  #count = 0;

  record(ms: number): void {
    this.#times[this.#next] = ms;
    this.#next = this.#next + 1 === WINDOW ? 0 : this.#next + 1;
    if (this.#count < WINDOW) this.#count++;
  }

  summary(): TimeSummary {
    const count = this.#count;
    // Until it wraps, the times are the first `count`; after, all of them. A typed array sorts
    // numerically.
    const sorted = this.#times.slice(0, count).sort();
    let sum = 0;
    for (const ms of sorted) sum += ms;
    const rank = (p: number): number => (count === 0 ? NaN : sorted[Math.ceil(p * count) - 1]);
    return { count, mean: count === 0 ? NaN : sum / count, p50: rank(0.5), p99: rank(0.99) };
  }
}

const runTimes = new TimeWindow();
const waitTimes = new TimeWindow();

/**
 * A module thread has ended: `started` when start() was called, `taken` when an isolate took
 * its run, `ended` when its end reached this loop (performance.now() each).
 */
export function recordTimes(started: number, taken: number, ended: number): void {
  waitTimes.record(taken - started);
  runTimes.record(ended - taken);
}

/** The summaries of the recent module threads' times (isolatePool()). */
export function poolTimes(): { runTime: TimeSummary; waitTime: TimeSummary } {
  return { runTime: runTimes.summary(), waitTime: waitTimes.summary() };
}
