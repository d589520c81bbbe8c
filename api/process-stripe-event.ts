/**
 * What happens to a verified Stripe event, independent of HTTP: record it, link it to a member,
 * hand it to the member's workflow. Throws DependencyUnavailableError when the handoff could not happen
 * (PostgreSQL, Temporal or Stripe unavailable), so the app answers 503 and Stripe redelivers.
 */
import type { Client } from '@temporalio/client';
import type Stripe from 'stripe';
import type { Db } from '../lib/db';
import { DependencyUnavailableError, errorMessage } from '../lib/dependency-errors';
import { classifyHttpFailure } from '../lib/http-failures';
import type { Logger } from '../lib/logger';
import type { Metrics } from '../lib/metrics';
import {
  memberWorkflowId,
  membershipStatusKey,
  stripeCustomerIdKey,
  stripeEventSignal,
  type MemberEvent,
} from '../workflows/messages';
import type { membershipWorkflow } from '../workflows/membership';
import { memberSummary } from '../workflows/temporal-ui';
import {
  customerOf,
  EXPECTED_STRIPE_API_VERSION,
  normalizeStripeEvent,
  objectIdOf,
  type Normalized,
  type StripeEventEnvelope,
} from './stripe-events';
import { callTemporal } from './temporal-call';

export interface ProcessDeps {
  db: Db;
  temporal: Client;
  taskQueue: string;
  log: Logger;
  metrics: Metrics;
  /** Used only to find the customer of a dispute through its charge. */
  stripe?: Stripe;
}

export type ProcessResult =
  | { outcome: 'handed_off'; customerId: string }
  | { outcome: 'duplicate'; customerId: string | null }
  | { outcome: 'ignored_unhandled' }
  | { outcome: 'unlinked'; reason: string };

export async function processStripeEvent(deps: ProcessDeps, event: StripeEventEnvelope): Promise<ProcessResult> {
  const { db, log, metrics } = deps;
  if (event.api_version && event.api_version !== EXPECTED_STRIPE_API_VERSION) {
    metrics.apiVersionMismatch.inc({ api_version: event.api_version });
    log.warn(
      { eventId: event.id, type: event.type, apiVersion: event.api_version, expected: EXPECTED_STRIPE_API_VERSION },
      'Stripe event API version differs from the one memberops was written for; processing it by shape',
    );
  }

  // Normalize first (pure): an event we cannot read is refused before anything is recorded.
  let normalized: Normalized = normalizeStripeEvent(event);
  const prior = await record(db, event);
  if (prior.outcome === 'handed_off') {
    metrics.webhookOutcomes.inc({ outcome: 'duplicate' });
    return { outcome: 'duplicate', customerId: prior.customerId };
  }
  countCheckout(metrics, event.type);
  if (normalized.kind === 'needs_charge_lookup') normalized = await linkThroughCharge(deps, normalized);

  if (normalized.kind === 'unhandled') {
    await setOutcome(db, event.id, 'ignored_unhandled', null);
    metrics.webhookOutcomes.inc({ outcome: 'ignored_unhandled' });
    return { outcome: 'ignored_unhandled' };
  }
  if (normalized.kind === 'unlinked') {
    await setOutcome(db, event.id, 'unlinked', normalized.reason);
    metrics.webhookOutcomes.inc({ outcome: 'unlinked' });
    log.info(
      { eventId: event.id, type: event.type, reason: normalized.reason },
      'Stripe event recorded without a member',
    );
    return { outcome: 'unlinked', reason: normalized.reason };
  }

  if (normalized.kind !== 'member') throw new Error('unreachable: charge lookup already resolved');
  const memberEvent = normalized.event;
  await handOff(deps, memberEvent);
  await db
    .query(
      `UPDATE stripe_events SET outcome = 'handed_off', handed_off_at = now(), customer_id = $2, outcome_detail = NULL WHERE id = $1`,
      [event.id, memberEvent.customerId],
    )
    .catch((err: unknown) => {
      // The workflow has the event (and deduplicates it): a lost bookkeeping write must not make Stripe retry.
      log.warn({ eventId: event.id, err: errorMessage(err) }, 'could not record handoff outcome');
    });
  metrics.webhookOutcomes.inc({ outcome: 'handed_off' });
  return { outcome: 'handed_off', customerId: memberEvent.customerId };
}

/**
 * Event types memberops reads only to count (no member state follows from them): the webhook endpoint must receive
 * them for the checkout completion rate to mean anything.
 */
export const COUNTED_EVENT_TYPES = ['checkout.session.expired'] as const;

/** Checkout sessions end completed or expired; the first delivery of each counts (redeliveries returned above). */
function countCheckout(metrics: Metrics, type: string): void {
  if (type !== 'checkout.session.completed' && type !== COUNTED_EVENT_TYPES[0]) return;
  metrics.checkoutsStarted.inc();
  if (type === 'checkout.session.completed') metrics.checkoutsCompleted.inc();
}

async function record(db: Db, event: StripeEventEnvelope): Promise<{ outcome: string; customerId: string | null }> {
  const [row] = await db.query<{ outcome: string; customer_id: string | null }>(
    `INSERT INTO stripe_events (id, type, created_at, customer_id, object_id, api_version, livemode)
       VALUES ($1, $2, to_timestamp($3), $4, $5, $6, $7)
       ON CONFLICT (id) DO UPDATE SET delivery_count = stripe_events.delivery_count + 1, last_received_at = now()
       RETURNING outcome, customer_id`,
    [
      event.id,
      event.type,
      event.created,
      customerOf(event),
      objectIdOf(event),
      event.api_version ?? null,
      event.livemode ?? false,
    ],
  );
  return { outcome: row?.outcome ?? 'received', customerId: row?.customer_id ?? null };
}

async function setOutcome(db: Db, eventId: string, outcome: string, detail: string | null): Promise<void> {
  await db.query('UPDATE stripe_events SET outcome = $2, outcome_detail = $3 WHERE id = $1', [
    eventId,
    outcome,
    detail,
  ]);
}

/** A dispute names only its charge: find the customer in events we already have, then ask Stripe. */
async function linkThroughCharge(
  deps: ProcessDeps,
  n: Extract<Normalized, { kind: 'needs_charge_lookup' }>,
): Promise<Normalized> {
  const [row] = await deps.db.query<{ customer_id: string }>(
    `SELECT customer_id FROM stripe_events WHERE object_id = $1 AND customer_id IS NOT NULL LIMIT 1`,
    [n.chargeId],
  );
  let customerId: string | null = row?.customer_id ?? null;
  if (!customerId && deps.stripe) {
    try {
      const charge = await deps.stripe.charges.retrieve(n.chargeId);
      customerId = typeof charge.customer === 'string' ? charge.customer : (charge.customer?.id ?? null);
    } catch (err) {
      const failure = classifyHttpFailure(err);
      if (failure.retryable) {
        throw new DependencyUnavailableError('stripe', `Stripe charge lookup: ${failure.message}`, { cause: err });
      }
      deps.log.warn({ chargeId: n.chargeId, status: failure.status }, 'charge of a dispute not found in Stripe');
    }
  }
  if (!customerId) return { kind: 'unlinked', reason: `dispute on charge ${n.chargeId} with no known customer` };
  return { kind: 'member', event: { ...n.partial, customerId } as MemberEvent };
}

/** The hand-off itself: signal the member's workflow, starting it (searchable by customer id) if it is new. */
export function signalMemberWorkflow(temporal: Client, taskQueue: string, event: MemberEvent) {
  return temporal.workflow.signalWithStart<typeof membershipWorkflow, [MemberEvent]>('membershipWorkflow', {
    workflowId: memberWorkflowId(event.customerId),
    taskQueue,
    args: [{ customerId: event.customerId }],
    signal: stripeEventSignal,
    signalArgs: [event],
    // The Temporal UI's first line for the member (only a start sets it; later signals leave it as it is).
    staticSummary: memberSummary(event.customerId, event.email),
    typedSearchAttributes: [
      { key: stripeCustomerIdKey, value: event.customerId },
      { key: membershipStatusKey, value: 'none' },
    ],
  });
}

async function handOff(deps: ProcessDeps, event: MemberEvent): Promise<void> {
  try {
    await callTemporal(deps.temporal, 'member workflow hand-off', () =>
      signalMemberWorkflow(deps.temporal, deps.taskQueue, event),
    );
  } catch (err) {
    await deps.db
      .query(
        `UPDATE stripe_events SET outcome = 'failed', outcome_detail = $2 WHERE id = $1 AND outcome <> 'handed_off'`,
        [event.eventId, 'Temporal unavailable; awaiting redelivery'],
      )
      .catch(() => undefined);
    throw err;
  }
}
