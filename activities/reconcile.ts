/**
 * Reconciliation: what webhooks missed, found in Stripe's event list and applied exactly as a webhook would be,
 * and members whose canonical status disagrees with Stripe, repaired with a snapshot. One run per call.
 */
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import type Stripe from 'stripe';
import { processStripeEvent } from '../lib/process-stripe-event';
import { customerOf, stripeEventEnvelope, type StripeEventEnvelope } from '../lib/stripe-events';
import type { Db } from '../lib/db';
import type { Logger } from '../lib/logger';
import { createMetrics, type Metrics } from '../lib/metrics';
import { reconcileMetrics } from '../lib/reconcile-metrics';
import {
  HANDLED_EVENT_TYPES,
  memberWorkflowId,
  membershipQuery,
  type MembershipStatus,
  type MembershipView,
} from '../workflows/messages';
import type { MemberSnapshot } from '../workflows/snapshot-messages';
import { toActivityFailure } from './failures';
import { CUSTOMER_EXPAND, currentSubscription, handOffSnapshots, snapshotOf } from './stripe-snapshots';

/** Events created this long before the previous run's end are listed again: Stripe lists an event a moment late. */
const OVERLAP_S = 300;
/** Outcomes of events already dealt with; `received` and `failed` were never handed to a member. */
const SETTLED = ['handed_off', 'ignored_unhandled', 'unlinked'];

export interface ReconcileResult {
  runId: string;
  eventsListed: number;
  missedEvents: number;
  membersChecked: number;
  driftRepaired: number;
}

export interface DriftFinding {
  customerId: string;
  stripeStatus: string | null;
  canonicalStatus: MembershipStatus;
}

/** Whether memberops' status is one Stripe's subscription status allows (refunded is memberops' own and always is). */
export function agreesWithStripe(
  view: Pick<MembershipView, 'status' | 'dunningCycles'>,
  stripe: string | null,
): boolean {
  const s = view.status;
  if (s === 'refunded') return true;
  switch (stripe) {
    case null:
      return s === 'none';
    case 'active':
    case 'trialing':
      return s === stripe;
    case 'past_due':
      // Our own dunning may have ended it (DUNNING_FINAL_ACTION=mark_canceled leaves Stripe past due).
      return s === 'grace_period' || s === 'past_due' || (s === 'canceled' && view.dunningCycles > 0);
    case 'unpaid':
      return s === 'past_due' || s === 'canceled';
    case 'canceled':
    case 'paused':
      return s === 'canceled';
    case 'incomplete_expired':
      return s === 'canceled' || s === 'none';
    default:
      // incomplete: waiting for a first payment, nothing to compare.
      return true;
  }
}

export interface ReconcileDeps {
  db: Db;
  stripe?: Stripe;
  log: Logger;
  /** RECONCILE_EVERY in ms: the first run looks back this far. */
  everyMs: number;
}

export function createReconcileActivities(deps: ReconcileDeps) {
  const metrics = reconcileMetrics();
  // processStripeEvent counts webhook outcomes; the worker keeps its own set, apart from the API's.
  let webhookMetrics: Metrics | undefined;
  return {
    /** One reconciliation run: lists Stripe events since the last run, applies the unrecorded ones, repairs drift. */
    async reconcileWithStripe(): Promise<ReconcileResult> {
      const { db, stripe, log } = deps;
      if (!stripe) throw new Error('STRIPE_SECRET_KEY is not set: nothing to reconcile with');
      const { client, info } = Context.current();
      const windowEnd = Math.floor(Date.now() / 1000);
      const runId = info.workflowExecution?.runId ?? String(windowEnd);
      const [last] = await db.query<{ end_s: string | null }>(
        'SELECT extract(epoch FROM max(window_end))::bigint AS end_s FROM reconcile_runs',
      );
      const windowStart = last?.end_s ? Number(last.end_s) - OVERLAP_S : windowEnd - Math.ceil(deps.everyMs / 1000);

      const events: StripeEventEnvelope[] = [];
      try {
        for await (const e of stripe.events.list({
          created: { gte: windowStart, lte: windowEnd },
          types: [...HANDLED_EVENT_TYPES],
          limit: 100,
        })) {
          events.push(stripeEventEnvelope.parse(e));
        }
      } catch (err) {
        throw toActivityFailure(err, 'Stripe events list');
      }
      // Oldest first, as they would have arrived.
      events.reverse();
      const recorded = await db.query<{ id: string }>(
        'SELECT id FROM stripe_events WHERE id = ANY($1::text[]) AND outcome = ANY($2::text[])',
        [events.map((e) => e.id), SETTLED],
      );
      const settled = new Set(recorded.map((r) => r.id));
      const missed = events.filter((e) => !settled.has(e.id));
      const processDeps = {
        db,
        temporal: client,
        taskQueue: info.taskQueue,
        log,
        metrics: (webhookMetrics ??= createMetrics()),
        stripe,
      };
      const lateCustomers = new Set<string>();
      for (const event of missed) {
        const result = await processStripeEvent(processDeps, event);
        if (result.outcome === 'handed_off') lateCustomers.add(result.customerId);
        log.warn(
          { eventId: event.id, type: event.type, outcome: result.outcome },
          'Stripe event missed by webhooks applied by reconciliation',
        );
      }

      // Members Stripe changed in the window; those just given missed events are checked by the next run.
      const changed = [...new Set(events.map(customerOf).filter((c): c is string => !!c))].filter(
        (c) => !lateCustomers.has(c),
      );
      const drift: DriftFinding[] = [];
      const repairs: MemberSnapshot[] = [];
      for (const customerId of changed) {
        const found = await compare(stripe, client, customerId, `reconcile:${runId}`);
        if (found) {
          drift.push(found.finding);
          repairs.push(found.snapshot);
        }
      }
      await handOffSnapshots(client, info.taskQueue, repairs);

      await db.query(
        `INSERT INTO reconcile_runs (started_at, finished_at, window_start, window_end, events_listed, missed_events,
           members_checked, drift_repaired, drift, missed)
         VALUES (to_timestamp($1), now(), to_timestamp($2), to_timestamp($1), $3, $4, $5, $6, $7, $8)`,
        [
          windowEnd,
          windowStart,
          events.length,
          missed.length,
          changed.length,
          drift.length,
          JSON.stringify(drift),
          JSON.stringify(missed.map((e) => ({ id: e.id, type: e.type }))),
        ],
      );
      metrics.runs.inc();
      metrics.missedEvents.inc(missed.length);
      metrics.driftRepaired.inc(drift.length);
      if (drift.length > 0) {
        // The one alert of a run (MemberopsStripeDrift fires on the counter): a status changed in Stripe without an event.
        log.error({ runId, drift }, `Stripe drift: ${drift.length} member(s) disagreed with Stripe and were repaired`);
      }
      return {
        runId,
        eventsListed: events.length,
        missedEvents: missed.length,
        membersChecked: changed.length,
        driftRepaired: drift.length,
      };
    },
  };
}

async function compare(
  stripe: Stripe,
  temporal: Client,
  customerId: string,
  snapshotId: string,
): Promise<{ finding: DriftFinding; snapshot: MemberSnapshot } | undefined> {
  const takenAt = Math.floor(Date.now() / 1000);
  let customer: Stripe.Customer | Stripe.DeletedCustomer;
  let sub: Stripe.Subscription | null;
  try {
    customer = await stripe.customers.retrieve(customerId, { expand: CUSTOMER_EXPAND });
    if (customer.deleted) return undefined;
    sub = (await currentSubscription(stripe, customer)).sub;
  } catch (err) {
    throw toActivityFailure(err, 'Stripe customer read');
  }
  let view: Pick<MembershipView, 'status' | 'dunningCycles'>;
  try {
    view = await temporal.workflow.getHandle(memberWorkflowId(customerId)).query(membershipQuery);
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
    view = { status: 'none', dunningCycles: 0 };
  }
  const stripeStatus = sub?.status ?? null;
  if (agreesWithStripe(view, stripeStatus)) return undefined;
  return {
    finding: { customerId, stripeStatus, canonicalStatus: view.status },
    snapshot: snapshotOf(customer, sub, { snapshotId, takenAt }),
  };
}
