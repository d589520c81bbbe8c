/**
 * The oracle's own reading of a Stripe event and its own statement of the membership rules it needs: written from the
 * documented behaviour (README, state-machine comments), deliberately without importing any memberops code, so that a
 * mistake in memberops cannot hide in the oracle too.
 */
import { HANDLED_TYPES } from './stripe-side';

export type Status = 'none' | 'trialing' | 'active' | 'grace_period' | 'past_due' | 'canceled' | 'refunded';
export const ACCESS: ReadonlySet<Status> = new Set<Status>(['trialing', 'active', 'grace_period']);
export type Tag = 'trial_started' | 'member_active' | 'payment_failed' | 'payment_recovered' | 'cancelled' | 'refunded';
export type NoticeKind =
  | 'payment_failed'
  | 'payment_action_required'
  | 'dunning_reminder'
  | 'payment_recovered'
  | 'canceled'
  | 'trial_will_end';

/** Subjects of the member messages, one per notice kind (what a member sees in their inbox). */
export const NOTICE_SUBJECTS: Record<NoticeKind, string> = {
  payment_failed: 'Your membership payment failed',
  payment_action_required: 'Please confirm your membership payment',
  dunning_reminder: 'Reminder: your membership payment is still open',
  payment_recovered: 'Payment received, thank you',
  canceled: 'Your membership has ended',
  trial_will_end: 'Your trial ends soon',
};

/** The facts of one Stripe event the rules look at. */
export interface Fact {
  id: string;
  type: string;
  /** epoch seconds */
  created: number;
  /** The Stripe object the event is about. */
  objectId: string;
  subscription?: string;
  subStatus?: string;
  cancelAtPeriodEnd?: boolean;
  /** epoch seconds */
  cancelAt?: number | null;
  /** epoch seconds */
  currentPeriodEnd?: number | null;
  /** epoch seconds */
  trialEnd?: number | null;
  amountPaid?: number;
  paymentStatus?: string | null;
  fullyRefunded?: boolean;
}

type Obj = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

/** Reads a Stripe event body. Customer-less and unknown types are the caller's business. */
export function readFact(body: string): Fact {
  const e = JSON.parse(body) as { id: string; type: string; created: number; data: { object: Obj } };
  const o = e.data.object;
  const f: Fact = { id: e.id, type: e.type, created: e.created, objectId: String(o['id']) };
  switch (o['object']) {
    case 'subscription': {
      const items = ((o['items'] as Obj | undefined)?.['data'] as Obj[] | undefined) ?? [];
      const ends = items.map((i) => num(i['current_period_end']) ?? 0).filter((n) => n > 0);
      Object.assign(f, {
        subscription: f.objectId,
        subStatus: str(o['status']),
        cancelAtPeriodEnd: o['cancel_at_period_end'] === true,
        cancelAt: num(o['cancel_at']) ?? null,
        currentPeriodEnd: ends.length ? Math.max(...ends) : (num(o['current_period_end']) ?? null),
        trialEnd: num(o['trial_end']) ?? null,
      });
      break;
    }
    case 'invoice': {
      const parent = o['parent'] as Obj | undefined;
      const details = parent?.['subscription_details'] as Obj | undefined;
      Object.assign(f, {
        subscription: str(details?.['subscription']) ?? str(o['subscription']),
        amountPaid: num(o['amount_paid']),
      });
      break;
    }
    case 'checkout.session':
      Object.assign(f, { subscription: str(o['subscription']), paymentStatus: str(o['payment_status']) ?? null });
      break;
    case 'charge': {
      const captured = num(o['amount_captured']) ?? num(o['amount']) ?? 0;
      const refunded = num(o['amount_refunded']) ?? 0;
      f.fullyRefunded = o['refunded'] === true || (captured > 0 && refunded >= captured);
      break;
    }
  }
  return f;
}

/** Events that state the billing situation as of their `created`; only these move the ordering watermark. */
export const STATUS_BEARING: ReadonlySet<string> = new Set(
  // Every handled type but the two that say nothing of the subscription's state.
  [...HANDLED_TYPES].filter((t) => t !== 'customer.subscription.trial_will_end' && t !== 'charge.dispute.created'),
);

/** CRM lifecycle tags for a status change, as the README's CRM section lists them. */
export function crmTags(from: Status, to: Status): { add: Tag[]; remove: Tag[] } {
  if (to === 'trialing') return { add: ['trial_started'], remove: ['cancelled', 'refunded', 'payment_failed'] };
  if (to === 'active') {
    return from === 'grace_period' || from === 'past_due'
      ? { add: ['payment_recovered', 'member_active'], remove: ['payment_failed'] }
      : { add: ['member_active'], remove: ['cancelled', 'refunded', 'payment_failed'] };
  }
  if (to === 'grace_period') return { add: ['payment_failed'], remove: ['payment_recovered'] };
  if (to === 'past_due')
    return from === 'grace_period'
      ? { add: [], remove: [] }
      : { add: ['payment_failed'], remove: ['payment_recovered'] };
  if (to === 'canceled') return { add: ['cancelled'], remove: ['member_active', 'trial_started'] };
  if (to === 'refunded') return { add: ['refunded'], remove: ['member_active', 'trial_started'] };
  return { add: [], remove: [] };
}
