/**
 * The snapshot input of the member workflow: Stripe's current state of one customer, read by a backfill or a
 * reconciliation run and handed over with signal-with-start, like an event. Shared by `activities/` and `workflows/`.
 */
import { defineSignal } from '@temporalio/workflow';
import type { StripeSubscriptionStatus } from './messages';

export interface SnapshotSubscription {
  id: string;
  status: StripeSubscriptionStatus;
  cancelAtPeriodEnd: boolean;
  /** epoch seconds */
  cancelAt: number | null;
  /** epoch seconds */
  currentPeriodEnd: number | null;
  /** epoch seconds */
  trialEnd: number | null;
  /** The subscription's latest invoice, read when the subscription is past due or unpaid. */
  latestInvoice?: {
    id: string;
    hostedInvoiceUrl: string | null;
    /** epoch seconds: when the invoice was finalized, the start of Stripe's collection attempts. */
    finalizedAt: number | null;
  } | null;
}

/** What Stripe says of one customer at `takenAt`. Never a whole Stripe object: no card data, no addresses. */
export interface MemberSnapshot {
  /** Who read it (`backfill:<run>`, `reconcile:<run>`): the cause of the transitions it makes. */
  snapshotId: string;
  customerId: string;
  /** epoch seconds, taken before Stripe was asked: the state read is at least this new. */
  takenAt: number;
  email: string | null;
  appUserId: string | null;
  /** The customer's newest subscription (live ones first), or null when the customer never subscribed. */
  subscription: SnapshotSubscription | null;
}

/** Stripe's current state of this member (backfill, reconciliation). */
export const stripeSnapshotSignal = defineSignal<[MemberSnapshot]>('stripeSnapshot');
