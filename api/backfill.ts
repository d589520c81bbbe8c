/** Starting the backfill workflow and reading its progress (the `npm run backfill` command; a console button could too). */
import { WorkflowIdConflictPolicy, type Client, type WorkflowHandle } from '@temporalio/client';
import {
  BACKFILL_WORKFLOW_ID,
  backfillProgressQuery,
  type backfillWorkflow,
  type BackfillProgress,
} from '../workflows/backfill';

/**
 * Starts the backfill, or attaches to the one already running (one at a time). `runId` names this backfill in the
 * snapshots it sends (the transitions' cause).
 */
export async function startBackfill(
  temporal: Client,
  opts: { taskQueue: string; requestsPerSecond: number; runId?: string; pageSize?: number; pagesPerRun?: number },
): Promise<WorkflowHandle<typeof backfillWorkflow>> {
  const runId = opts.runId ?? new Date().toISOString();
  return temporal.workflow.start<typeof backfillWorkflow>('backfillWorkflow', {
    workflowId: BACKFILL_WORKFLOW_ID,
    taskQueue: opts.taskQueue,
    args: [
      { runId, requestsPerSecond: opts.requestsPerSecond, pageSize: opts.pageSize, pagesPerRun: opts.pagesPerRun },
    ],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
  });
}

export function backfillProgress(handle: WorkflowHandle<typeof backfillWorkflow>): Promise<BackfillProgress> {
  return handle.query(backfillProgressQuery);
}
