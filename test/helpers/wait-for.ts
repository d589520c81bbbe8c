export interface WaitForOptions {
  /** Give up after this long. Default 10 s. */
  timeoutMs?: number;
  /** Pause between attempts. Default 100 ms. */
  intervalMs?: number;
  /** What is awaited, for the failure message ("workflow member-cus_1 to be past_due"). */
  description?: string;
}

/**
 * Calls `fn` until it returns something other than `undefined` or `false`, and resolves to that value.
 *
 * Errors thrown by `fn` count as "not yet" (the thing may not exist yet). On timeout it rejects with the description and
 * the last value or error, so a failing test says what it was waiting for and what it saw instead.
 */
export async function waitFor<T>(
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  opts: WaitForOptions = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const intervalMs = opts.intervalMs ?? 100;
  const description = opts.description ?? 'condition';
  const deadline = Date.now() + timeoutMs;
  let attempts = 0;
  let last: { value: unknown } | { error: unknown } | undefined;

  for (;;) {
    attempts++;
    const outcome = await settleWithin(fn, Math.max(deadline - Date.now(), 0));
    if (outcome !== undefined) {
      if ('error' in outcome) {
        last = outcome;
      } else if (outcome.value !== undefined && outcome.value !== false) {
        return outcome.value as T;
      } else {
        last = outcome;
      }
    }
    const left = deadline - Date.now();
    if (left <= 0) break;
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, left)));
  }

  const seen =
    last === undefined
      ? `the last attempt was still pending at the deadline`
      : 'error' in last
        ? `last error: ${describeError(last.error)}`
        : `last value: ${describeValue(last.value)}`;
  throw new Error(`Timed out after ${timeoutMs} ms (${attempts} attempts) waiting for ${description}; ${seen}`, {
    cause: last !== undefined && 'error' in last ? last.error : undefined,
  });
}

/** Runs one attempt; undefined when it did not settle before the deadline (its late result is ignored). */
async function settleWithin<T>(
  fn: () => Promise<T> | T,
  ms: number,
): Promise<{ value: T } | { error: unknown } | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const attempt = (async () => {
    try {
      return { value: await fn() };
    } catch (error) {
      return { error };
    }
  })();
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([attempt, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function describeError(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : describeValue(err);
}

function describeValue(value: unknown): string {
  try {
    const json = JSON.stringify(value);
    return json === undefined ? String(value) : json.length > 500 ? `${json.slice(0, 500)}…` : json;
  } catch {
    // Circular or BigInt values cannot be serialised; their string form is still useful in a failure message.
    return String(value);
  }
}
