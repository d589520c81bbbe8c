/** Starts the HTTP API on a port; used by `npm run api`, `npm start` and the tests. */
import type { Client } from '@temporalio/client';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Stripe from 'stripe';
import type { Config } from '../lib/config';
import type { Db } from '../lib/db';
import type { Logger } from '../lib/logger';
import { createMetrics } from '../lib/metrics';
import { adminRouter } from './admin/auth';
import { billingPortalRouter } from './routes/billing-portal';
import { createApp, type AppDeps } from './app';
import { createApiKeyCheck } from './auth/api-key';
import { crmSection } from './crm-section';
import { intercomWebhookRouter } from './routes/intercom-webhook';
import { messengerRouter } from './routes/messenger';
import { startStripeRedrive } from './stripe-redrive';
import { supportRequestsRouter } from './routes/support';
import { supportSection } from './support-section';
import { redriveSupportRequests, type SupportIntakeDeps } from './support-intake';

export interface ApiServer {
  server: Server;
  port: number;
  url: string;
  /**
   * Graceful drain: /readyz answers 503, no new connection is accepted, idle keep-alive connections close, and requests
   * in flight finish (up to `drainMs`, default 10 s) before the remaining connections are cut.
   */
  close(opts?: { drainMs?: number }): Promise<void>;
}

/** How long a SIGTERM waits for requests in flight (Stripe and Intercom give a delivery a few seconds more). */
export const DEFAULT_DRAIN_MS = 10_000;

export async function startApiServer(
  config: Pick<
    Config,
    'nodeEnv' | 'port' | 'temporal' | 'stripe' | 'support' | 'billingPortalReturnUrl' | 'security' | 'backfill'
  > &
    Partial<Pick<Config, 'intercom' | 'console' | 'containment'>>,
  deps: { db: Db; temporal: Client; log: Logger; stripe?: Stripe } & Partial<AppDeps>,
): Promise<ApiServer> {
  const hasApiKey = createApiKeyCheck(config.security.apiKeys);
  const metrics = deps.metrics ?? createMetrics();
  const support: SupportIntakeDeps = {
    metrics,
    db: deps.db,
    temporal: deps.temporal,
    taskQueue: config.temporal.taskQueue,
    log: deps.log,
    stripe: deps.stripe,
    autoReplyMinConfidence: config.support.autoReplyMinConfidence,
    replyValues: {
      loginUrl: config.support.loginUrl,
      cancelPath: config.support.cancelPath,
      billingPortalReturnUrl: config.billingPortalReturnUrl,
    },
  };
  let draining = false;
  const app = createApp({
    draining: () => draining,
    metrics,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    webhookSecret: config.stripe.webhookSecret,
    readinessDetails: () => ({ crmSync: config.intercom?.accessToken ? 'on' : 'off (INTERCOM_ACCESS_TOKEN not set)' }),
    ...deps,
    memberSections: [crmSection(deps.db), supportSection(deps.db), ...(deps.memberSections ?? [])],
    trustProxy: config.security.trustProxy,
    surfaces: {
      webhooks: [intercomWebhookRouter({ ...support, clientSecret: config.intercom?.clientSecret })],
      admin: adminRouter({
        db: deps.db,
        log: deps.log,
        nodeEnv: config.nodeEnv,
        email: config.security.admin.email,
        passwordHash: config.security.admin.passwordHash,
        sessionSecret: config.security.sessionSecret,
        loginAttemptsPer15Minutes: config.security.admin.loginAttemptsPer15Minutes,
        hasApiKey,
        console: {
          temporal: deps.temporal,
          metrics,
          namespace: config.temporal.namespace,
          temporalUiUrl: config.console?.temporalUiUrl,
          maxGraceExtensionMs: config.console?.maxGraceExtensionMs ?? 7 * 24 * 3600 * 1000,
          intercomAppId: config.intercom?.appId,
          taskQueue: config.temporal.taskQueue,
          backfillRequestsPerSecond: config.backfill.requestsPerSecond,
        },
      }),
      hasApiKey,
      memberRateLimitPerMinute: config.security.memberRateLimitPerMinute,
    },
    extraRouters: [
      supportRequestsRouter({ ...support, rateLimitPerMinute: config.support.rateLimitPerMinute }),
      messengerRouter({ db: deps.db, secret: config.intercom?.messengerSecret, appId: config.intercom?.appId }),
      billingPortalRouter({ db: deps.db, stripe: deps.stripe, defaultReturnUrl: config.billingPortalReturnUrl }),
      ...(deps.extraRouters ?? []),
    ],
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.port, '0.0.0.0', () => resolve(s));
    s.once('error', reject);
  });
  // Stripe keeps connections alive between deliveries; keep the socket longer than typical proxies.
  server.keepAliveTimeout = 65_000;
  // While draining, a connection whose last response went out is idle: close it rather than wait for keep-alive.
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    res.once('finish', () => {
      if (draining) setImmediate(() => server.closeIdleConnections());
    });
  });
  const port = (server.address() as AddressInfo).port;
  const redrive = startStripeRedrive(
    {
      db: deps.db,
      temporal: deps.temporal,
      taskQueue: config.temporal.taskQueue,
      log: deps.log,
      metrics,
      stripe: deps.stripe,
    },
    config.containment?.redriveEveryMs ?? 0,
    (quietForMs) => redriveSupportRequests(support, quietForMs),
  );
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    close: async ({ drainMs = DEFAULT_DRAIN_MS } = {}) => {
      draining = true;
      await redrive.stop();
      await new Promise<void>((resolve) => {
        // close() stops accepting and closes idle keep-alive connections; busy ones close after their response.
        server.close(() => resolve());
        server.closeIdleConnections();
        const cut = setTimeout(() => server.closeAllConnections(), drainMs);
        cut.unref();
        server.once('close', () => clearTimeout(cut));
      });
    },
  };
}
