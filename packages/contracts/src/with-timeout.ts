/**
 * The promise's value, or `onTimeout` when `ms` pass first. The timer never outlives the race, so a
 * settled call keeps no process alive; a rejection of `promise` is passed on unchanged.
 */
export async function withTimeout<T, F>(
  promise: Promise<T>,
  ms: number,
  onTimeout: F,
): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<F>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout), Math.max(ms, 0));
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
