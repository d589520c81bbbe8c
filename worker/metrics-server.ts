/**
 * The worker's own GET /metrics, for `npm run worker` apart from the API: activities' metrics, behind an app key;
 * and its GET /readyz: 200 while it polls its task queue with Temporal reachable, else 503; the checks only to a
 * caller with an app key.
 */
import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { register } from 'prom-client';
import { createApiKeyCheck, requireApiKey } from '../api/auth/api-key';

export interface WorkerMetricsServer {
  port: number;
  close(): Promise<void>;
}

/** What the worker's readiness reads: whether it polls, and whether its Temporal connection answers. */
export interface WorkerHealth {
  polling(): boolean;
  temporal(): Promise<boolean>;
}

export async function startWorkerMetricsServer(
  port: number,
  apiKeys: readonly string[],
  health?: WorkerHealth,
): Promise<WorkerMetricsServer> {
  // Metrics name members' volumes and failures: never served without a key.
  if (apiKeys.length === 0)
    throw new Error('WORKER_METRICS_PORT needs API_KEYS (the scraper sends one as a bearer token)');
  const app = express();
  app.disable('x-powered-by');
  const hasApiKey = createApiKeyCheck(apiKeys);
  app.get('/readyz', async (req, res) => {
    const polling = health?.polling() ?? false;
    const temporal = health ? await health.temporal().catch(() => false) : false;
    const ok = polling && temporal;
    const status = ok ? 'ready' : 'unavailable';
    res
      .status(ok ? 200 : 503)
      .json(
        hasApiKey(req)
          ? { status, checks: { polling: polling ? 'ok' : 'not polling', temporal: temporal ? 'ok' : 'unreachable' } }
          : { status },
      );
  });
  app.get('/metrics', requireApiKey(hasApiKey), async (_req, res) => {
    res.type(register.contentType).send(await register.metrics());
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(port, '0.0.0.0', () => resolve(s));
    s.once('error', reject);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
