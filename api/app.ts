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
  /** Extra routers (support intake, admin pages) mounted before the error handler. */
  extraRouters?: express.Router[];
}

export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(helmet());
  app.use(healthRouter({ db: deps.db, temporal: deps.temporal, namespace: deps.namespace, taskQueue: deps.taskQueue, details: deps.readinessDetails }));
  // The API's own metrics plus the default registry, where activities (e.g. CRM sync lag) register when the worker
  // runs in the same process (npm start).
  const registry = Registry.merge([deps.metrics.registry, defaultRegister]);
  app.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });
  app.use(stripeWebhookRouter(deps));
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
