/** Builds the memberops worker from already-constructed clients (the only place clients meet activities). */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import type { Config } from '../lib/config';

export const WORKFLOWS_PATH = require.resolve('../workflows');

export interface CreateWorkerOptions extends ActivityDeps {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** A pre-built bundle (tests bundle once per file); otherwise the worker bundles `workflows/`. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Worker identity shown in the Temporal UI. */
  identity?: string;
  /** WORKER_MAX_CONCURRENT_WORKFLOW_TASKS, WORKER_MAX_CACHED_WORKFLOWS, WORKER_STICKY_QUEUE_TIMEOUT (lib/config.ts). */
  tuning?: Config['workerTuning'];
}

export async function createMemberopsWorker(opts: CreateWorkerOptions): Promise<Worker> {
  const { connection, namespace, taskQueue, workflowBundle, identity, tuning, ...deps } = opts;
  return Worker.create({
    connection,
    namespace,
    taskQueue,
    ...(identity ? { identity } : {}),
    ...(workflowBundle ? { workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities: createActivities(deps),
    // Activities are I/O-bound: a modest slot count keeps PostgreSQL's pool from being oversubscribed.
    maxConcurrentActivityTaskExecutions: 50,
    // Unset: the SDK's defaults (40 workflow tasks at once, a sticky cache sized from the heap, reuseV8Context on).
    ...(tuning?.maxConcurrentWorkflowTaskExecutions
      ? { maxConcurrentWorkflowTaskExecutions: tuning.maxConcurrentWorkflowTaskExecutions }
      : {}),
    ...(tuning?.maxCachedWorkflows === undefined ? {} : { maxCachedWorkflows: tuning.maxCachedWorkflows }),
    ...(tuning?.stickyQueueScheduleToStartTimeoutMs === undefined
      ? {}
      : { stickyQueueScheduleToStartTimeout: tuning.stickyQueueScheduleToStartTimeoutMs }),
  });
}

export { NativeConnection };
