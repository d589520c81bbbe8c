/** Prometheus metrics (prom-client), one registry per process, served at GET /metrics. */
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    webhookOutcomes: new Counter({
      name: 'memberops_stripe_webhook_outcomes_total',
      help: 'Stripe webhook deliveries by outcome',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    webhookRejections: new Counter({
      name: 'memberops_stripe_webhook_rejections_total',
      help: 'Stripe webhook deliveries refused, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    apiVersionMismatch: new Counter({
      name: 'memberops_stripe_api_version_mismatch_total',
      help: 'Stripe events whose api_version differs from the one memberops was written for',
      labelNames: ['api_version'] as const,
      registers: [registry],
    }),
    webhookAckSeconds: new Histogram({
      name: 'memberops_stripe_webhook_ack_seconds',
      help: 'Time from receiving a Stripe webhook to answering it',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
