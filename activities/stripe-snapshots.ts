/**
 * Reading Stripe's current state of customers into member snapshots, and handing snapshots to member workflows.
 * Shared by the backfill (a page of customers at a time) and reconciliation (one customer at a time).
 */
import type { Client } from '@temporalio/client';
import type Stripe from 'stripe';
import { signalWithSnapshot } from '../lib/member-handoff';
import type { StripeSubscriptionStatus } from '../workflows/messages';
import type { MemberSnapshot, SnapshotSubscription } from '../workflows/snapshot-messages';

const KNOWN_STATUSES: ReadonlySet<string> = new Set<StripeSubscriptionStatus>([
  'incomplete',
  'incomplete_expired',
  'trialing',
  'active',
  'past_due',
  'unpaid',
  'canceled',
  'paused',
]);

/** Expansions that bring each customer's live subscriptions and their latest invoice in the same request. */
export const CUSTOMER_EXPAND = ['subscriptions.data.latest_invoice'];

const epoch = (v: number | null | undefined): number | null => (typeof v === 'number' && v > 0 ? v : null);

/** The app's user id: customer metadata first, then the subscription's (Checkout copies `subscription_data.metadata`). */
function appUserIdOf(customer: Stripe.Customer, sub: Stripe.Subscription | null): string | null {
  const from = (m: Stripe.Metadata | null | undefined): string | null => m?.['app_user_id'] ?? m?.['member_id'] ?? null;
  return from(customer.metadata) ?? from(sub?.metadata) ?? null;
}

export function subscriptionOf(sub: Stripe.Subscription): SnapshotSubscription {
  // Since basil, periods live on subscription items.
  const itemEnds = sub.items.data.map((i) => i.current_period_end).filter((n) => n > 0);
  const legacyEnd = (sub as unknown as { current_period_end?: number }).current_period_end;
  const invoice = typeof sub.latest_invoice === 'object' && sub.latest_invoice ? sub.latest_invoice : null;
  return {
    id: sub.id,
    // A status newer than this code knows changes nothing (as `incomplete` does) rather than guessing.
    status: KNOWN_STATUSES.has(sub.status) ? (sub.status as StripeSubscriptionStatus) : 'incomplete',
    cancelAtPeriodEnd: sub.cancel_at_period_end,
    cancelAt: epoch(sub.cancel_at),
    currentPeriodEnd: itemEnds.length ? Math.max(...itemEnds) : epoch(legacyEnd),
    trialEnd: epoch(sub.trial_end),
    latestInvoice:
      invoice && invoice.id
        ? {
            id: invoice.id,
            hostedInvoiceUrl: invoice.hosted_invoice_url ?? null,
            finalizedAt: epoch(invoice.status_transitions?.finalized_at) ?? epoch(invoice.created),
          }
        : null,
  };
}

export function snapshotOf(
  customer: Stripe.Customer,
  sub: Stripe.Subscription | null,
  meta: { snapshotId: string; takenAt: number },
): MemberSnapshot {
  return {
    snapshotId: meta.snapshotId,
    customerId: customer.id,
    takenAt: meta.takenAt,
    email: customer.email ?? null,
    appUserId: appUserIdOf(customer, sub),
    subscription: sub ? subscriptionOf(sub) : null,
  };
}

/**
 * The subscription a snapshot describes: the newest live one from the expanded list, else the newest of all (a
 * canceled member). Returns how many extra requests that took.
 */
export async function currentSubscription(
  stripe: Stripe,
  customer: Stripe.Customer,
): Promise<{ sub: Stripe.Subscription | null; requests: number }> {
  const live = customer.subscriptions?.data[0];
  if (live) return { sub: live, requests: 0 };
  const all = await stripe.subscriptions.list({
    customer: customer.id,
    status: 'all',
    limit: 1,
    expand: ['data.latest_invoice'],
  });
  return { sub: all.data[0] ?? null, requests: 1 };
}

/** Hands snapshots to their member workflows, a few at a time. Idempotent: a repeated snapshot changes nothing. */
export async function handOffSnapshots(
  temporal: Client,
  taskQueue: string,
  snapshots: MemberSnapshot[],
  opts: { concurrency?: number; onProgress?: () => void } = {},
): Promise<void> {
  const concurrency = opts.concurrency ?? 16;
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < snapshots.length) {
      const s = snapshots[next++] as MemberSnapshot;
      await signalWithSnapshot(temporal, taskQueue, s);
      opts.onProgress?.();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, snapshots.length) }, lane));
}
