/**
 * Every Temporal call the API makes while a caller waits (hand-offs, queries, readiness), bounded by one deadline and
 * classified once: an unavailable service becomes a DependencyUnavailableError (503), anything else is rethrown.
 */
import type { Client } from '@temporalio/client';
import { DependencyUnavailableError, errorMessage, isTemporalUnavailable } from './dependency-errors';

/** Stripe and Intercom give a delivery a few seconds: answer 503 well before, and let them redeliver. */
export const HANDOFF_DEADLINE_MS = 5000;

export async function callTemporal<T>(
  temporal: Client,
  what: string,
  fn: () => Promise<T>,
  deadlineMs: number = HANDOFF_DEADLINE_MS,
): Promise<T> {
  try {
    return await temporal.withDeadline(Date.now() + deadlineMs, fn);
  } catch (err) {
    if (isTemporalUnavailable(err)) {
      throw new DependencyUnavailableError('temporal', `${what}: Temporal unavailable: ${errorMessage(err)}`, {
        cause: err,
      });
    }
    throw err;
  }
}
