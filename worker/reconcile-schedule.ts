/**
 * The `memberops-reconcile` Temporal Schedule, created or updated at worker start-up (idempotent: a restart, a
 * second worker or a changed RECONCILE_EVERY all end with one schedule of the configured interval).
 */
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptionsAction,
  type ScheduleUpdateOptions,
} from '@temporalio/client';
import type { reconcileWorkflow } from '../workflows/reconcile';

export const RECONCILE_SCHEDULE_ID = 'memberops-reconcile';

export type ReconcileScheduleOutcome = 'created' | 'updated' | 'deleted' | 'absent';

/** Creates or updates the schedule; `everyMs` null (RECONCILE_EVERY=off) deletes it if it exists. */
export async function ensureReconcileSchedule(
  client: Client,
  opts: { taskQueue: string; everyMs: number | null },
): Promise<ReconcileScheduleOutcome> {
  const handle = client.schedule.getHandle(RECONCILE_SCHEDULE_ID);
  if (opts.everyMs === null) {
    try {
      await handle.delete();
      return 'deleted';
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) return 'absent';
      throw err;
    }
  }
  const action: ScheduleOptionsAction = {
    type: 'startWorkflow',
    workflowType: 'reconcileWorkflow' satisfies (typeof reconcileWorkflow)['name'],
    workflowId: 'memberops-reconcile-run',
    taskQueue: opts.taskQueue,
    args: [],
  };
  const spec = { intervals: [{ every: opts.everyMs }] };
  // A run still going when the next is due is not doubled: the next one is skipped.
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: 600_000 };
  try {
    await client.schedule.create({ scheduleId: RECONCILE_SCHEDULE_ID, spec, action, policies });
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  await handle.update((prev): ScheduleUpdateOptions => ({
    ...prev,
    spec,
    action,
    policies: { ...prev.policies, ...policies },
  }));
  return 'updated';
}
