/**
 * A Stripe account full of existing customers, for backfill tests and benchmarks: a fixed mix of subscription states
 * (mostly active, some trialing, past due with an open invoice, unpaid, canceled, ending at period end, none).
 */
import { now } from '../scaffold';
import type { StripeAccount } from './account';
import { seedCustomer } from './customers';
import { seedInvoice } from './invoices';
import { seedSubscription } from './subscriptions';

export interface PopulationMember {
  customerId: string;
  email: string;
  appUserId: string;
  /** Stripe's subscription status, or null for a customer without a subscription. */
  stripeStatus: string | null;
  subscriptionId: string | null;
  cancelAtPeriodEnd: boolean;
}

/** Stripe status of the i-th customer (of every 20: 12 active, 3 trialing, past_due, unpaid, canceled, ending, none). */
function kind(i: number): { status: string | null; ending?: boolean } {
  const k = i % 20;
  if (k < 12) return { status: 'active' };
  if (k < 15) return { status: 'trialing' };
  if (k === 15) return { status: 'past_due' };
  if (k === 16) return { status: 'unpaid' };
  if (k === 17) return { status: 'canceled' };
  if (k === 18) return { status: 'active', ending: true };
  return { status: null };
}

export function seedPopulation(acct: StripeAccount, n: number, opts: { prefix?: string } = {}): PopulationMember[] {
  const prefix = opts.prefix ?? 'cus_pop';
  const t = now();
  const out: PopulationMember[] = [];
  for (let i = 0; i < n; i += 1) {
    const id = `${prefix}${String(i).padStart(6, '0')}`;
    const email = `member${i}@${prefix.replace(/_/g, '-')}.example.com`;
    const appUserId = `user-${prefix}-${i}`;
    // One second apart, so the list order (newest first) is the reverse of i.
    const created = t - 100_000 + i;
    seedCustomer(acct, { id, email, created, metadata: { app_user_id: appUserId } });
    const { status, ending } = kind(i);
    const subscriptionId = status ? `sub_${id.slice(4)}` : null;
    if (status && subscriptionId) {
      let latestInvoice: string | undefined;
      if (status === 'past_due' || status === 'unpaid') {
        latestInvoice = `in_${id.slice(4)}`;
        // The first payment failed an hour ago: the member is inside the grace period.
        seedInvoice(acct, { id: latestInvoice, customer: id, created: t - 3600, subscription: subscriptionId });
      }
      seedSubscription(acct, {
        id: subscriptionId,
        customer: id,
        status,
        created,
        cancel_at_period_end: ending,
        trial_end: status === 'trialing' ? t + 7 * 86_400 : null,
        latest_invoice: latestInvoice,
      });
    }
    out.push({ customerId: id, email, appUserId, stripeStatus: status, subscriptionId, cancelAtPeriodEnd: !!ending });
  }
  return out.reverse();
}
