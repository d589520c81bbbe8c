/** Builds the memberops worker from already-constructed clients (the only place clients meet activities). */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';

export const WORKFLOWS_PATH = require.resolve('../workflows');

export interface CreateWorkerOptions extends ActivityDeps {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** A pre-built bundle (tests bundle once per file); otherwise the worker bundles `workflows/`. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Worker identity shown in the Temporal UI. */
  identity?: string;
}

export async function createMemberopsWorker(opts: CreateWorkerOptions): Promise<Worker> {
  const { connection, namespace, taskQueue, workflowBundle, identity, ...deps } = opts;
  return Worker.create({
    connection,
    namespace,
    taskQueue,
    ...(identity ? { identity } : {}),
    ...(workflowBundle ? { workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities: createActivities(deps),
    // Activities are I/O-bound: a modest slot count keeps PostgreSQL's pool from being oversubscribed.
    maxConcurrentActivityTaskExecutions: 50,
  });
}

export { NativeConnection };
