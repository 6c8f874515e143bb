// Small statistics and formatting helpers shared by report.mjs, chart.mjs and peers/common.mjs.
// Hand-written, not a statistics library: this is all the bench needs, and the figures depend on
// the exact definitions (the lag rows have always used a nearest-rank percentile; a library's
// interpolated quantile would move them, and the figures would no longer compare).

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Nearest-rank percentile. */
export function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/** median, min and max of per-round values. */
export function summarize(values) {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/**
 * Three significant digits, thousands separators from 1,000 up: 0.123, 1.23, 12.3, 123, 1,234,
 * 98,765.
 */
export function fmt(x) {
  if (x === null || x === undefined || Number.isNaN(x)) return '?';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString('en-US');
  const decimals = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3;
  return x.toFixed(decimals);
}
