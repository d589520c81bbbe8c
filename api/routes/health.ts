/** GET /healthz (process alive) and GET /readyz (dependencies reachable, worker polling). */
import type { Client } from '@temporalio/client';
import { Router } from 'express';
import type { Db } from '../../lib/db';
import { callTemporal } from '../temporal-call';

export interface ReadinessDeps {
  db: Db;
  temporal: Client;
  namespace: string;
  taskQueue: string;
  /** Extra readiness details (e.g. CRM sync on/off); never fails readiness. */
  details?: () => Record<string, unknown>;
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
  router.get('/readyz', async (_req, res) => {
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
    const ready = Object.values(checks).every((c) => c.ok);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks, ...(deps.details?.() ?? {}) });
  });
  return router;
}
