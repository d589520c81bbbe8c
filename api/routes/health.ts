/**
 * GET /healthz (process alive) and GET /readyz: readiness of the API's own role. The API serves reads from PostgreSQL,
 * so PostgreSQL decides readiness; Temporal unreachable makes it `degraded` (reads answer, intake answers 503 and
 * Stripe redelivers), still 200 so a load balancer keeps the reads flowing. A worker polling is reported, never
 * required (the worker is another role); `?include=worker` requires it too, for deploy scripts waiting on the whole
 * system. A draining API (SIGTERM) is not ready. Both are public: /readyz tells strangers the status only; the checks
 * (error text, host names) are for callers with an app API key.
 */
import type { Client } from '@temporalio/client';
import { Router, type Request } from 'express';
import type { Db } from '../../lib/db';
import { callTemporal } from '../../lib/temporal-call';

export interface ReadinessDeps {
  db: Db;
  temporal: Client;
  namespace: string;
  taskQueue: string;
  /** Extra readiness details (e.g. CRM sync on/off); never fails readiness. */
  details?: () => Record<string, unknown>;
  /** Who sees the checks: callers with an app API key. */
  hasApiKey: (req: Request) => boolean;
  /** True once the process is shutting down: readiness fails so that no new traffic comes. */
  draining?: () => boolean;
}

async function timed<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export function healthRouter(deps: ReadinessDeps): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (req, res) => {
    const checks: Record<string, { ok: boolean; detail?: string }> = {};
    try {
      await timed(deps.db.ping(), 2000);
      checks['postgres'] = { ok: true };
    } catch (err) {
      checks['postgres'] = { ok: false, detail: (err as Error).message };
    }
    try {
      const resp = await callTemporal(
        deps.temporal,
        'readiness',
        () =>
          deps.temporal.workflowService.describeTaskQueue({
            namespace: deps.namespace,
            taskQueue: { name: deps.taskQueue },
            taskQueueType: 1, // TASK_QUEUE_TYPE_WORKFLOW
          }),
        2000,
      );
      checks['temporal'] = { ok: true };
      const pollers = resp.pollers?.length ?? 0;
      checks['worker'] =
        pollers > 0 ? { ok: true, detail: `${pollers} poller(s)` } : { ok: false, detail: 'no worker polling' };
    } catch (err) {
      checks['temporal'] = { ok: false, detail: (err as Error).message };
      checks['worker'] = { ok: false, detail: 'unknown (Temporal unreachable)' };
    }
    const draining = deps.draining?.() === true;
    const needed = req.query['include'] === 'worker' ? ['postgres', 'temporal', 'worker'] : ['postgres'];
    const ready = !draining && needed.every((name) => checks[name]?.ok === true);
    const status = draining ? 'draining' : !ready ? 'not_ready' : checks['temporal']?.ok ? 'ready' : 'degraded';
    res.setHeader('Cache-Control', 'no-store');
    res
      .status(ready ? 200 : 503)
      .json(deps.hasApiKey(req) ? { status, checks, ...(deps.details?.() ?? {}) } : { status });
  });
  return router;
}
