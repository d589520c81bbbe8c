/** The express app: hardening, routes, and the one error handler that maps typed errors to HTTP statuses. */
import type { Client } from '@temporalio/client';
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { register as defaultRegister, Registry } from 'prom-client';
import type Stripe from 'stripe';
import type { Db } from '../lib/db';
import type { Logger } from '../lib/logger';
import type { Metrics } from '../lib/metrics';
import {
  BadRequestError,
  DependencyUnavailableError,
  NotFoundError,
  PayloadTooLargeError,
  typedBodyErrors,
} from './errors';
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
  /** True once the API is draining (SIGTERM): /readyz answers 503. */
  draining?: () => boolean;
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
  app.use(healthRouter({ db: deps.db, temporal: deps.temporal, namespace: deps.namespace, taskQueue: deps.taskQueue, details: deps.readinessDetails, hasApiKey: surfaces.hasApiKey, draining: deps.draining }));
  app.use(stripeWebhookRouter(deps));
  for (const r of surfaces.webhooks) app.use(r);
  app.use('/members', memberRateLimit(surfaces.memberRateLimitPerMinute));
  app.use(apiKeyGate(surfaces.hasApiKey));
  if (surfaces.admin) app.use(surfaces.admin);
  // The API's own metrics plus the default registry, where activities register theirs on first use when the worker
  // runs in the same process (npm start): merged per scrape, since a merge copies only the metrics that exist then.
  app.get('/metrics', async (_req, res) => {
    const registry = Registry.merge([deps.metrics.registry, defaultRegister]);
    res.type(registry.contentType).send(await registry.metrics());
  });
  app.use(membersRouter({ db: deps.db, temporal: deps.temporal, log: deps.log, sections: deps.memberSections }));
  for (const r of deps.extraRouters ?? []) app.use(r);
  app.use((_req, _res, next) => next(new NotFoundError({ error: 'not_found' })));
  // Body-parser failures of routes that did not name them in their own words (the webhook's 1 MiB limit).
  app.use(typedBodyErrors({ limit: '1 MiB', malformed: () => new BadRequestError('malformed_body', 'body could not be parsed') }));
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof DependencyUnavailableError) {
      deps.log.warn({ path: req.path, dependency: err.dependency, err: err.message }, 'dependency unavailable');
      res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
      res.status(503).json({ error: `${err.dependency}_unavailable`, message: 'temporarily unavailable; retry later' });
      return;
    }
    if (err instanceof BadRequestError) {
      res.status(400).json({ error: err.error, message: err.message, ...err.details });
      return;
    }
    if (err instanceof NotFoundError) {
      res.status(404).json(err.body);
      return;
    }
    if (err instanceof PayloadTooLargeError) {
      res.status(413).json({ error: 'payload_too_large', message: err.message });
      return;
    }
    deps.log.error({ path: req.path, err: err instanceof Error ? err.message : String(err) }, 'unhandled error');
    res.status(500).json({ error: 'internal_error' });
  });
  return app;
}

/** Seconds a client is told to wait after a 503. */
const RETRY_AFTER_SECONDS = 5;
