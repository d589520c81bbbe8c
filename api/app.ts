/** The express app: hardening, routes, and one error handler that never answers 500 for a dependency outage. */
import type { Client } from '@temporalio/client';
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { register as defaultRegister, Registry } from 'prom-client';
import type Stripe from 'stripe';
import type { Db } from '../lib/db';
import type { Logger } from '../lib/logger';
import type { Metrics } from '../lib/metrics';
import { DependencyUnavailableError } from './errors';
import { healthRouter } from './routes/health';
import { membersRouter, type MemberRouteDeps } from './routes/members';
import { stripeWebhookRouter } from './routes/stripe-webhook';
import { apiKeyGate, memberRateLimit, type Surfaces } from './surfaces';

export interface AppDeps {
  db: Db;
  temporal: Client;
  log: Logger;
  metrics: Metrics;
  namespace: string;
  taskQueue: string;
  webhookSecret: string;
  stripe?: Stripe;
  memberSections?: MemberRouteDeps['sections'];
  readinessDetails?: () => Record<string, unknown>;
  /** Extra routers (support intake, messenger) behind the API key, mounted before the error handler. */
  extraRouters?: express.Router[];
  /** Who may call what: webhooks and admin pages, the API key check, rate limits (api/surfaces.ts). */
  surfaces: Surfaces;
  /** express `trust proxy` (TRUST_PROXY): whose X-Forwarded-For the rate limits believe. */
  trustProxy?: boolean | number | string[];
}

export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.trustProxy ?? 'loopback');
  app.use(helmet());
  const { surfaces } = deps;
  app.use(healthRouter({ db: deps.db, temporal: deps.temporal, namespace: deps.namespace, taskQueue: deps.taskQueue, details: deps.readinessDetails, hasApiKey: surfaces.hasApiKey }));
  app.use(stripeWebhookRouter(deps));
  for (const r of surfaces.webhooks) app.use(r);
  app.use('/members', memberRateLimit(surfaces.memberRateLimitPerMinute));
  app.use(apiKeyGate(surfaces.hasApiKey));
  if (surfaces.admin) app.use(surfaces.admin);
  // The API's own metrics plus the default registry, where activities (e.g. CRM sync lag) register when the worker
  // runs in the same process (npm start).
  const registry = Registry.merge([deps.metrics.registry, defaultRegister]);
  app.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });
  app.use(membersRouter({ db: deps.db, temporal: deps.temporal, log: deps.log, sections: deps.memberSections }));
  for (const r of deps.extraRouters ?? []) app.use(r);
  app.use((_req, res) => {
    res.status(404).json({ error: 'not_found' });
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = err as { type?: string; status?: number; code?: string; name?: string; message?: string };
    if (e.type === 'entity.too.large') {
      res.status(413).json({ error: 'payload_too_large', message: 'body is larger than 1 MiB' });
      return;
    }
    if (e.type === 'entity.parse.failed' || e.status === 400) {
      res.status(400).json({ error: 'malformed_body', message: 'body could not be parsed' });
      return;
    }
    if (isDependencyOutage(e)) {
      deps.log.warn({ path: req.path, err: e.message }, 'dependency unavailable');
      res.setHeader('Retry-After', '5');
      res.status(503).json({ error: 'unavailable', message: 'a dependency is temporarily unavailable' });
      return;
    }
    deps.log.error({ path: req.path, err: e.message }, 'unhandled error');
    res.status(500).json({ error: 'internal_error' });
  });
  return app;
}

/** PostgreSQL connection failures and Temporal connectivity errors are outages (503), not bugs (500). */
function isDependencyOutage(e: { code?: string; name?: string; message?: string }): boolean {
  if (e instanceof DependencyUnavailableError) return true;
  if (e.code && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', '57P01', '57P03', '53300', '08006', '08001'].includes(e.code)) return true;
  if (e.name === 'ServiceError' || e.name === 'ConnectionError') return true;
  return /Connection terminated|timeout exceeded when trying to connect|connect ECONNREFUSED|UNAVAILABLE|DEADLINE_EXCEEDED/i.test(e.message ?? '');
}
