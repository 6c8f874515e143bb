// A wait with a deadline for a Promise the package does not own the end of (a queue's close, the
// isolates that hold the loop): true once it resolves, false when the time is up first.

/**
 * True once `promise` resolves, false when `seconds` pass first (null or Infinity: never). The
 * timer is unref'd (it holds nothing open) unless `holdOpen`.
 */
export async function within(promise: Promise<unknown>, seconds: number | null,
  holdOpen = false): Promise<boolean> {
  if (seconds === null || seconds === Infinity) return promise.then(() => true);
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<boolean>((resolve) => {
    timer = setTimeout(resolve, seconds * 1000, false);
    if (!holdOpen) timer.unref();
  });
  try {
    return await Promise.race([promise.then(() => true), expired]);
  } finally {
    clearTimeout(timer);
  }
}
