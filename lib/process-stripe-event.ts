/**
 * What happens to a verified Stripe event, independent of HTTP: record it, link it to a member,
 * hand it to the member's workflow. Throws DependencyUnavailableError when the handoff could not happen
 * (PostgreSQL, Temporal or Stripe unavailable), so the app answers 503 and Stripe redelivers.
 */
import type { Client } from '@temporalio/client';
import type Stripe from 'stripe';
import type { Db } from './db';
import { DependencyUnavailableError, errorMessage, isTemporalRefusal } from './dependency-errors';
import { classifyHttpFailure } from './http-failures';
import type { Logger } from './logger';
import type { Metrics } from './metrics';
import {
  memberWorkflowId,
  membershipStatusKey,
  stripeCustomerIdKey,
  stripeEventSignal,
  type MemberEvent,
} from '../workflows/messages';
import type { membershipWorkflow } from '../workflows/membership';
import { memberSummary, memoAtStart, statusAtStart } from '../workflows/temporal-ui';
import {
  alertSetAside,
  markHandedOff,
  markHandOffFailed,
  markSetAside,
  recordStripeEvent,
  setEventOutcome,
  setMemberEvent,
} from './stripe-event-log';
import {
  EXPECTED_STRIPE_API_VERSION,
  readStripeEvent,
  type Normalized,
  type ReadEvent,
  type StripeEventIdentity,
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
  | { outcome: 'unlinked'; reason: string }
  | { outcome: 'set_aside'; reason: string };

/**
 * Records the verified event before anything else can fail, with what reading it gave; an event memberops cannot read
 * is kept and set aside (200, counted, alerted) rather than refused, since no redelivery would read it any better.
 */
export async function processStripeEvent(deps: ProcessDeps, event: StripeEventIdentity): Promise<ProcessResult> {
  const { db, log, metrics } = deps;
  if (event.api_version && event.api_version !== EXPECTED_STRIPE_API_VERSION) {
    metrics.apiVersionMismatch.inc({ api_version: event.api_version });
    log.warn(
      { eventId: event.id, type: event.type, apiVersion: event.api_version, expected: EXPECTED_STRIPE_API_VERSION },
      'Stripe event API version differs from the one memberops was written for; processing it by shape',
    );
  }

  let read: ReadEvent = readStripeEvent(event);
  const prior = await recordStripeEvent(db, event, read);
  if (prior.settled && !(prior.outcome === 'set_aside' && read.kind === 'member')) {
    metrics.webhookOutcomes.inc({ outcome: 'duplicate' });
    if (prior.outcome === 'set_aside') return { outcome: 'set_aside', reason: prior.detail ?? 'set aside' };
    return { outcome: 'duplicate', customerId: prior.customerId };
  }
  countCheckout(metrics, event.type);
  if (read.kind === 'unreadable') return setAside(deps, event, null, 'unreadable', read.reason);
  if (read.kind === 'needs_charge_lookup') {
    read = await linkThroughCharge(deps, read);
    if (read.kind === 'member') await setMemberEvent(db, read.event);
  }

  if (read.kind === 'unhandled') {
    await setEventOutcome(db, event.id, 'ignored_unhandled', null);
    metrics.webhookOutcomes.inc({ outcome: 'ignored_unhandled' });
    return { outcome: 'ignored_unhandled' };
  }
  if (read.kind === 'unlinked') {
    await setEventOutcome(db, event.id, 'unlinked', read.reason);
    metrics.webhookOutcomes.inc({ outcome: 'unlinked' });
    log.info({ eventId: event.id, type: event.type, reason: read.reason }, 'Stripe event recorded without a member');
    return { outcome: 'unlinked', reason: read.reason };
  }

  if (read.kind !== 'member') throw new Error('unreachable: charge lookup already resolved');
  const memberEvent = read.event;
  const handOff = await handOffMemberEvent(deps, memberEvent);
  if (handOff.outcome === 'refused') {
    return setAside(
      deps,
      event,
      memberEvent.customerId,
      'handoff_refused',
      `hand-off refused by Temporal: ${handOff.reason}`,
    );
  }
  metrics.webhookOutcomes.inc({ outcome: 'handed_off' });
  return { outcome: 'handed_off', customerId: memberEvent.customerId };
}

/**
 * Event types memberops reads only to count (no member state follows from them): the webhook endpoint must receive
 * them for the checkout completion rate to mean anything.
 */
export const COUNTED_EVENT_TYPES = ['checkout.session.expired'] as const;

/** Kept, answered 200, counted and alerted once: a person decides what becomes of it. */
async function setAside(
  deps: ProcessDeps,
  event: StripeEventIdentity,
  customerId: string | null,
  kind: 'unreadable' | 'handoff_refused',
  reason: string,
): Promise<ProcessResult> {
  if (kind === 'handoff_refused') await markSetAside(deps.db, event.id, reason);
  deps.metrics.eventsSetAside.inc({ reason: kind });
  deps.metrics.webhookOutcomes.inc({ outcome: 'set_aside' });
  deps.log.error({ eventId: event.id, type: event.type, reason }, 'Stripe event set aside');
  await alertSetAside(deps.db, event, customerId, reason);
  return { outcome: 'set_aside', reason };
}

/** Checkout sessions end completed or expired; the first delivery of each counts (redeliveries returned above). */
function countCheckout(metrics: Metrics, type: string): void {
  if (type !== 'checkout.session.completed' && type !== COUNTED_EVENT_TYPES[0]) return;
  metrics.checkoutsStarted.inc();
  if (type === 'checkout.session.completed') metrics.checkoutsCompleted.inc();
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
    args: [{ customerId: event.customerId, lean: true, settingsOnCycleStart: true }],
    signal: stripeEventSignal,
    signalArgs: [event],
    // The Temporal UI's first line for the member (only a start sets it; later signals leave it as it is).
    staticSummary: memberSummary(event.customerId, event.email),
    ...memoAtStart(event),
    typedSearchAttributes: [
      { key: stripeCustomerIdKey, value: event.customerId },
      { key: membershipStatusKey, value: statusAtStart({ event }, Date.now()) },
    ],
  });
}

export type HandOffResult = { outcome: 'handed_off' } | { outcome: 'refused'; reason: string };

/**
 * Hands a recorded member event to its workflow and records that it did. Temporal unavailable: the row says `failed`
 * (the sweep or a redelivery tries again) and a DependencyUnavailableError (503) is thrown. Temporal refusing the
 * input for good (invalid argument): `refused`, which no retry would change. The bookkeeping write after a hand-off is
 * best effort: the projection marks the events it applied, so a lost write does not leave a wrong status.
 */
export async function handOffMemberEvent(deps: ProcessDeps, event: MemberEvent): Promise<HandOffResult> {
  try {
    await callTemporal(deps.temporal, 'member workflow hand-off', () =>
      signalMemberWorkflow(deps.temporal, deps.taskQueue, event),
    );
  } catch (err) {
    if (isTemporalRefusal(err)) return { outcome: 'refused', reason: errorMessage(err) };
    await markHandOffFailed(deps.db, event.eventId, `hand-off failed: ${errorMessage(err)}`.slice(0, 500)).catch(
      () => undefined,
    );
    throw err;
  }
  await markHandedOff(deps.db, event).catch((err: unknown) => {
    // The workflow has the event (and deduplicates it): a lost bookkeeping write must not make Stripe retry.
    deps.log.warn({ eventId: event.eventId, err: errorMessage(err) }, 'could not record handoff outcome');
  });
  return { outcome: 'handed_off' };
}
