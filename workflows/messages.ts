/**
 * Signals, queries, updates and their payload types: the one contract between `api/` and `workflows/`
 * (the support feature's part of it is `support-messages.ts`).
 * Deterministic, dependency-free (only the workflow SDK's define* helpers).
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal } from '@temporalio/workflow';

import type { MembershipStatus } from './vocabulary';

export { MEMBERSHIP_STATUSES, type MembershipStatus } from './vocabulary';

/** Statuses that give access to the app. */
export const ACCESS_STATUSES: ReadonlySet<MembershipStatus> = new Set(['trialing', 'active', 'grace_period']);

export const HANDLED_EVENT_TYPES = [
  'checkout.session.completed',
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'customer.subscription.paused',
  'customer.subscription.resumed',
  'customer.subscription.trial_will_end',
  'invoice.paid',
  'invoice.payment_succeeded',
  'invoice.payment_failed',
  'invoice.payment_action_required',
  'charge.refunded',
  'charge.dispute.created',
] as const;
export type HandledEventType = (typeof HANDLED_EVENT_TYPES)[number];

/** Stripe subscription statuses, as Stripe sends them. */
export type StripeSubscriptionStatus =
  | 'incomplete'
  | 'incomplete_expired'
  | 'trialing'
  | 'active'
  | 'past_due'
  | 'unpaid'
  | 'canceled'
  | 'paused';

/**
 * The part of a verified Stripe event that the membership workflow needs. Built in `api/` from the event;
 * never the whole webhook body (no card data, no addresses reach workflow history).
 */
export interface MemberEvent {
  eventId: string;
  type: HandledEventType;
  /** Stripe's `event.created`, epoch seconds: the only ordering Stripe gives. */
  created: number;
  customerId: string;
  /** The Stripe object the event is about (`sub_…`, `in_…`, `ch_…`, `cs_…`, `du_…`). */
  objectId: string;
  apiVersion?: string | null;
  subscriptionId?: string;
  subscriptionStatus?: StripeSubscriptionStatus;
  cancelAtPeriodEnd?: boolean;
  /** epoch seconds */
  cancelAt?: number | null;
  /** epoch seconds */
  currentPeriodEnd?: number | null;
  /** epoch seconds */
  trialEnd?: number | null;
  invoiceId?: string;
  hostedInvoiceUrl?: string | null;
  attemptCount?: number;
  billingReason?: string | null;
  /** Decline code or last payment error code, to word the dunning message. */
  failureReason?: string | null;
  amountRefunded?: number;
  amountCaptured?: number;
  fullyRefunded?: boolean;
  /** invoice.amount_paid, to tell a trial's $0 invoice from a real payment. */
  amountPaid?: number;
  /** checkout.session.payment_status: paid, unpaid, no_payment_required. */
  paymentStatus?: string | null;
  email?: string | null;
  appUserId?: string | null;
  disputeReason?: string | null;
}

export interface Transition {
  from: MembershipStatus;
  to: MembershipStatus;
  /** ISO timestamp (workflow time). */
  at: string;
  cause: TransitionCause;
}

export type TransitionCause =
  | { kind: 'event'; eventId: string; eventType: string }
  | { kind: 'timer'; timer: TimerName }
  /** Stripe's current state read by a backfill or a reconciliation run (see `snapshot-messages.ts`). */
  | { kind: 'snapshot'; snapshotId: string };

export type TimerName = 'grace_period_end' | 'dunning_reminder' | 'dunning_cancel' | 'period_end_cancel';

/** Durations of the dunning cycle, in milliseconds. A workflow keeps the policy its cycle started with. */
export interface DunningPolicy {
  gracePeriodMs: number;
  remindersMs: number[];
  cancelAfterMs: number;
  finalAction: 'cancel_in_stripe' | 'mark_canceled';
}

const DAY_MS = 86_400_000;
/** The policy of an unset DUNNING_* configuration (lib/config.ts): 3 days' grace, reminders at 0, 3 and 7 days. */
export const DEFAULT_DUNNING_POLICY: DunningPolicy = {
  gracePeriodMs: 3 * DAY_MS,
  remindersMs: [0, 3 * DAY_MS, 7 * DAY_MS],
  cancelAfterMs: 14 * DAY_MS,
  finalAction: 'mark_canceled',
};

export interface DunningState {
  /** ISO */
  cycleStartedAt: string;
  invoiceId?: string;
  /** ISO */
  graceEndsAt: string;
  /** ISO */
  cancelsAt: string;
  /** ISO deadlines of reminders not sent yet */
  pendingReminders: string[];
  /** How many reminders were sent in this cycle. */
  remindersSent: number;
  hostedInvoiceUrl?: string | null;
  failureReason?: string | null;
  /** The policy this cycle started with (kept even if the config changes later). */
  policy: DunningPolicy;
  /** How many cycles this member has had: part of message idempotency keys. */
  cycle: number;
}

/** What the `membership` query answers. */
export interface MembershipView {
  customerId: string;
  status: MembershipStatus;
  allowed: boolean;
  reason: string;
  email: string | null;
  appUserId: string | null;
  subscriptionId: string | null;
  subscriptionStatus: StripeSubscriptionStatus | null;
  cancelAtPeriodEnd: boolean;
  /** ISO */
  currentPeriodEnd: string | null;
  /** ISO */
  trialEnd: string | null;
  disputed: boolean;
  /** hosted_invoice_url of the newest invoice seen. */
  latestInvoiceUrl: string | null;
  dunning: DunningState | null;
  /** Dunning cycles that ever started (message keys use it). */
  dunningCycles: number;
  transitions: Transition[];
  /** Monotonic counter bumped on every change; the projection's version guard. */
  version: number;
  /** ISO */
  updatedAt: string | null;
  crm: { contactId: string | null };
}

/** A verified Stripe event for this member. */
export const stripeEventSignal = defineSignal<[MemberEvent]>('stripeEvent');
/** The canonical membership state. */
export const membershipQuery = defineQuery<MembershipView>('membership');

/** Custom search attributes, registered at start-up (see lib/search-attributes.ts). */
export const membershipStatusKey = defineSearchAttributeKey('MembershipStatus', SearchAttributeType.KEYWORD);
export const stripeCustomerIdKey = defineSearchAttributeKey('StripeCustomerId', SearchAttributeType.KEYWORD);

/** Business id of a member's workflow. */
export const memberWorkflowId = (customerId: string): string => `member-${customerId}`;
