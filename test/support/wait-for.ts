/**
 * Polls `probe` every `intervalMs` until it returns a value other than undefined/false, or the
 * deadline passes. For conditions with no event to wait on (a status endpoint, a file growing);
 * the failure names what was awaited and what the last probe saw.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: { timeoutMs?: number; intervalMs?: number; details?: () => string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const why = lastError ? ` (last probe threw: ${(lastError as Error).message})` : '';
      throw new Error(
        `timed out waiting for ${what}${why}${options.details ? `\n${options.details()}` : ''}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
  }
}
