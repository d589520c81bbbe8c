/**
 * Activity options of the member's effects (notices, CRM sync, Stripe): transient failures are retried with backoff,
 * but each effect has a deadline (EFFECT_RETRY_DEADLINE, as scheduleToCloseTimeout), after which it is recorded as
 * failed with one founder alert and its lane moves on. Unknown errors are therefore never retried forever.
 */
import { patched, proxyActivities, type ActivityFailure, type ActivityInterfaceFor } from '@temporalio/workflow';
import type { Activities } from '../activities';

/** One attempt's limit: an attempt abandoned by continue-as-new is over this long after it started. */
export const EFFECT_ATTEMPT_TIMEOUT_MS = 30_000;

/** Retries with backoff; the deadline, not an attempt count, ends them. */
export const effectRetry = { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '1 minute' } as const;

type EffectActivities = Pick<
  ActivityInterfaceFor<Activities>,
  'sendMemberNotice' | 'cancelSubscriptionInStripe' | 'syncCrmContact'
>;

const byDeadline = new Map<number, EffectActivities>();

/** The effect activities with the worker's deadline (settings of the run; 0 or unset: no deadline, as before). */
export function effectActivities(deadlineMs: number | undefined): EffectActivities {
  const key = deadlineMs ?? 0;
  let proxies = byDeadline.get(key);
  if (!proxies) {
    proxies = proxyActivities<Activities>({
      startToCloseTimeout: EFFECT_ATTEMPT_TIMEOUT_MS,
      ...(key > 0 ? { scheduleToCloseTimeout: key } : {}),
      retry: effectRetry,
    });
    byDeadline.set(key, proxies);
  }
  return proxies;
}

const { recordEffectFailure } = proxyActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/** Records an effect that gave up: one row, one founder alert. Histories from before this was added replay without it. */
export async function recordFailedEffect(
  customerId: string,
  lane: string,
  key: string,
  failure: ActivityFailure,
  /** A run started by current code (see membership.ts `lean`): no patch marker needed. */
  lean = false,
): Promise<void> {
  if (!lean && !patched('record-effect-failures')) return;
  const cause = failure.cause;
  // retryState says why Temporal stopped: TIMEOUT (the deadline), NON_RETRYABLE_FAILURE, MAXIMUM_ATTEMPTS_REACHED.
  const reason =
    `gave up (${failure.retryState}): ${cause?.name ?? 'Failure'}: ${cause?.message ?? failure.message}`.slice(0, 500);
  await recordEffectFailure.executeWithOptions({ summary: `record failed ${lane} effect` }, [
    { customerId, lane, key, reason, retryState: failure.retryState },
  ]);
}
