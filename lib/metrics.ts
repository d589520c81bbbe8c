/**
 * Prometheus metrics (prom-client), served at GET /metrics. The README's "Monitoring" table says which playbook figure
 * each one gives. The API's metrics live on a registry per app; the worker's (recorded by activities, never by workflow
 * code) on prom-client's default registry, which the API merges in when both run in one process (npm start, tests).
 */
import { Counter, collectDefaultMetrics, Histogram, register, Registry, type Metric } from 'prom-client';

/** Lag buckets in seconds: sub-second when healthy, up to the hour an outage can take. */
const LAG_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600];

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = {
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
    webhookDeliveries: new Counter({
      name: 'memberops_stripe_webhook_deliveries_total',
      help: 'Stripe webhook deliveries by what Stripe was answered: accepted, set_aside (2xx, no member), rejected (4xx), error (5xx)',
      labelNames: ['outcome', 'code'] as const,
      registers: [registry],
    }),
    eventsSetAside: new Counter({
      name: 'memberops_stripe_events_set_aside_total',
      help: 'Verified Stripe events kept but set aside for a person: unreadable (a shape memberops does not know) or handoff_refused (Temporal refused the input)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    eventsRedriven: new Counter({
      name: 'memberops_stripe_events_redriven_total',
      help: 'Events verified but not handed off that the re-drive sweep handed off (handed_off), found Temporal still unavailable (failed) or set aside (set_aside)',
      labelNames: ['outcome'] as const,
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
    checkoutsStarted: new Counter({
      name: 'memberops_checkouts_started_total',
      help: 'Stripe Checkout sessions that ended (checkout.session.completed or .expired), first delivery only',
      registers: [registry],
    }),
    checkoutsCompleted: new Counter({
      name: 'memberops_checkouts_completed_total',
      help: 'Stripe Checkout sessions completed (checkout.session.completed), first delivery only',
      registers: [registry],
    }),
    supportRequests: new Counter({
      name: 'memberops_support_requests_total',
      help: 'Support requests classified, by source, intent and route (auto_reply, billing_flow, human)',
      labelNames: ['source', 'intent', 'route'] as const,
      registers: [registry],
    }),
    operatorActions: new Counter({
      name: 'memberops_operator_actions_total',
      help: 'Actions a founder or operator took from the admin console, by kind',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
  };
  // Series the alerts compute increase() over start at 0: the first failure after a restart must count as one.
  for (const [outcome, code] of DELIVERY_SERIES) metrics.webhookDeliveries.inc({ outcome, code }, 0);
  for (const reason of ['unreadable', 'handoff_refused']) metrics.eventsSetAside.inc({ reason }, 0);
  return metrics;
}

/** The answers Stripe usually gets, exported from start-up (others appear when first answered). */
const DELIVERY_SERIES = [
  ['accepted', '200'],
  ['set_aside', '200'],
  ['rejected', '400'],
  ['error', '500'],
  ['error', '503'],
] as const;

export type Metrics = ReturnType<typeof createMetrics>;

/** An operator action's kind: a short snake_case verb phrase (`grant_access`, `resend_notice`), bounding the series. */
const OPERATOR_ACTION_KIND = /^[a-z][a-z0-9_]{0,47}$/;

/**
 * Counts one action a founder or operator took from the admin console, once it has taken effect (the playbook's
 * "admin action frequency"). A kind that is not snake_case is a programming error: labels must stay a short, fixed set.
 */
export function recordOperatorAction(metrics: Pick<Metrics, 'operatorActions'>, kind: string): void {
  if (!OPERATOR_ACTION_KIND.test(kind)) {
    throw new Error(`operator action kind must be snake_case, at most 48 characters: ${JSON.stringify(kind).slice(0, 60)}`);
  }
  metrics.operatorActions.inc({ kind });
}

/** Registers a metric on the default registry once per process (several workers may share a process in tests). */
function once<T extends Metric>(name: string, make: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? make();
}

/** The worker's metrics, recorded by activities where the effect happens. */
export function workerMetrics() {
  const metrics = {
    projectionLag: once(
      'memberops_projection_lag_seconds',
      () =>
        new Histogram({
          name: 'memberops_projection_lag_seconds',
          help: 'Time from acknowledging a Stripe webhook to the membership transition it caused being written to PostgreSQL',
          buckets: LAG_BUCKETS,
        }),
    ),
    crmSyncLag: once(
      'memberops_crm_sync_lag_seconds',
      () =>
        new Histogram({
          name: 'memberops_crm_sync_lag_seconds',
          help: 'Time from acknowledging a Stripe webhook to the first successful CRM (Intercom) update after it',
          buckets: LAG_BUCKETS,
        }),
    ),
    notices: once(
      'memberops_member_notices_total',
      () =>
        new Counter({
          name: 'memberops_member_notices_total',
          help: 'Member notice send attempts by outcome: sent, failed (retried), permanently_failed',
          labelNames: ['outcome'] as const,
        }),
    ),
    dunningCycles: once(
      'memberops_dunning_cycles_total',
      () =>
        new Counter({
          name: 'memberops_dunning_cycles_total',
          help: 'Dunning cycles by stage: started, recovered (paid again), exhausted (canceled while in dunning)',
          labelNames: ['stage'] as const,
        }),
    ),
    effectFailures: once(
      'memberops_effect_failures_total',
      () =>
        new Counter({
          name: 'memberops_effect_failures_total',
          help: 'Member effects that gave up after their retry deadline (EFFECT_RETRY_DEADLINE) or a non-retryable failure, by lane (notify, crm, stripe); each raised one founder alert',
          labelNames: ['lane'] as const,
        }),
    ),
    projectionWrites: once(
      'memberops_projection_writes_total',
      () =>
        new Counter({
          name: 'memberops_projection_writes_total',
          help: 'Membership projections written to PostgreSQL by the worker (the worker is consuming its task queue)',
        }),
    ),
  };
  // Exported at 0 from start-up so that increase() sees the first failure or cycle after a restart.
  for (const outcome of ['sent', 'failed', 'permanently_failed']) metrics.notices.inc({ outcome }, 0);
  for (const stage of ['started', 'recovered', 'exhausted']) metrics.dunningCycles.inc({ stage }, 0);
  for (const lane of ['notify', 'crm', 'stripe']) metrics.effectFailures.inc({ lane }, 0);
  return metrics;
}

export type WorkerMetrics = ReturnType<typeof workerMetrics>;
