/**
 * The console's Operations page (/admin/operations): start the backfill (one at a time: a second start attaches to
 * the running one), its progress from the workflow's query, and the last reconciliation runs. Starting is an operator
 * action, audited in operator_actions and counted in memberops_operator_actions_total.
 */
import { WorkflowFailedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { RequestHandler, Router } from 'express';
import { randomUUID } from 'node:crypto';
import type { Db } from '../../lib/db';
import type { Logger } from '../../lib/logger';
import { recordOperatorAction as countOperatorAction, type Metrics } from '../../lib/metrics';
import { BACKFILL_WORKFLOW_ID, backfillProgressQuery, type BackfillProgress } from '../../workflows/backfill';
import { startBackfill } from '../backfill';
import { recordOperatorAction } from './console-store';
import { renderPage } from './views/layout';
import { OperationsPage, type BackfillView, type OperationsFlash, type ReconcileRunRow } from './views/operations-page';

declare module 'express-session' {
  interface SessionData {
    /** The result of the last start, shown once on the Operations page (post/redirect/get). */
    operationsFlash?: OperationsFlash;
  }
}

export interface OperationsDeps {
  db: Db;
  temporal: Client;
  log: Logger;
  metrics?: Metrics;
  taskQueue: string;
  /** BACKFILL_REQUESTS_PER_SECOND, as `npm run backfill` uses it. */
  backfillRequestsPerSecond: number;
  founder: RequestHandler;
  csrf: RequestHandler;
  generateToken: (req: Parameters<RequestHandler>[0]) => string;
}

/** Runs shown on the page: the newest. */
export const RECONCILE_RUNS_SHOWN = 20;

/** The backfill's latest run: its Temporal status and its progress (the query while it runs, the result once done). */
export async function readBackfill(temporal: Client): Promise<BackfillView> {
  const handle = temporal.workflow.getHandle(BACKFILL_WORKFLOW_ID);
  let status: string;
  try {
    status = (await handle.describe()).status.name;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return { status: 'never_run', progress: null };
    throw err;
  }
  let progress: BackfillProgress | null = null;
  if (status === 'COMPLETED') progress = (await handle.result()) as BackfillProgress;
  else if (status === 'FAILED') {
    // Why it stopped, in the activity's words (e.g. STRIPE_SECRET_KEY not set on the worker).
    const failure = await handle.result().then(
      () => undefined,
      (err: unknown) => (err instanceof WorkflowFailedError && err.cause ? err.cause.message : String(err)),
    );
    progress = await handle.query(backfillProgressQuery).catch(() => null);
    return { status: 'failed', progress, failure };
  } else {
    // A failed or terminated run still answers the query while a worker polls; without one there is just the status.
    progress = await handle.query(backfillProgressQuery).catch(() => null);
  }
  return { status: status.toLowerCase(), progress };
}

export async function lastReconcileRuns(db: Db, limit = RECONCILE_RUNS_SHOWN): Promise<ReconcileRunRow[]> {
  return db.query<ReconcileRunRow>(
    `SELECT id::text AS id, started_at, finished_at, window_start, window_end, events_listed, missed_events,
            members_checked, drift_repaired
       FROM reconcile_runs ORDER BY id DESC LIMIT $1`,
    [limit],
  );
}

export function mountOperations(router: Router, deps: OperationsDeps): void {
  const { founder, csrf } = deps;

  router.get('/admin/operations', founder, async (req, res) => {
    const [backfill, runs] = await Promise.all([
      readBackfill(deps.temporal).catch((err: unknown) => {
        deps.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'backfill status unavailable');
        return { status: 'unavailable', progress: null } satisfies BackfillView;
      }),
      lastReconcileRuns(deps.db),
    ]);
    const flash = req.session.operationsFlash;
    if (flash) delete req.session.operationsFlash;
    const frame = { email: req.session.adminEmail as string, csrfToken: deps.generateToken(req) };
    res.type('html').send(renderPage(OperationsPage({ ...frame, backfill, runs, flash })));
  });

  router.post('/admin/operations/backfill', founder, csrf, async (req, res) => {
    const actor = req.session.adminEmail as string;
    const actionId = randomUUID();
    const kind = 'start_backfill';
    let flash: OperationsFlash;
    try {
      const before = await readBackfill(deps.temporal);
      const handle = await startBackfill(deps.temporal, {
        taskQueue: deps.taskQueue,
        requestsPerSecond: deps.backfillRequestsPerSecond,
        runId: `console-${actionId}`,
      });
      flash =
        before.status === 'running'
          ? { result: 'ok', message: 'A backfill is already running: showing its progress (none was started).' }
          : { result: 'ok', message: `Backfill started (${handle.workflowId}).` };
    } catch (err) {
      deps.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'backfill start failed');
      flash = { result: 'failed', message: 'Temporal is unavailable; no backfill was started, try again' };
    }
    await recordOperatorAction(deps.db, {
      id: actionId,
      customerId: null,
      actor,
      kind,
      input: { requests_per_second: deps.backfillRequestsPerSecond },
      result: flash.result,
      message: flash.message,
    });
    if (deps.metrics) countOperatorAction(deps.metrics, kind);
    deps.log.info({ kind, result: flash.result }, 'operator action');
    req.session.operationsFlash = flash;
    // Saved before answering, as on the member page: the redirect's GET must see the flash.
    await new Promise<void>((resolve, reject) => req.session.save((err) => (err ? reject(err) : resolve())));
    res.redirect(303, '/admin/operations');
  });
}
