/** One reconciliation run, started by the `memberops-reconcile` Schedule (see worker/reconcile-schedule.ts). */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';

const { reconcileWithStripe } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});

/** Finds what Stripe webhooks missed since the last run and repairs drift. */
export async function reconcileWorkflow(): Promise<Awaited<ReturnType<typeof reconcileWithStripe>>> {
  return await reconcileWithStripe();
}
