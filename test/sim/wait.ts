// Polling helper for asynchronous effects (spans arriving, relay messages, requests).

/**
 * Poll `predicate` every `intervalMs` until it returns a truthy value (which is returned) or
 * `timeoutMs` passes, then throw naming `what` (plus `describeState()` when given).
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  timeoutMs: number,
  what: string,
  describeState?: () => string,
  intervalMs = 20,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const state = describeState ? ` (${describeState()})` : "";
      const cause = lastError ? `; last predicate error: ${String(lastError)}` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${state}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
