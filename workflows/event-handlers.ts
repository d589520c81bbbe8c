/**
 * What each Stripe event type does to a member, one small handler per type. A handler returns `'ignored'` when
 * the event must not count as status-bearing (another subscription, an ended one, a partial refund).
 */
import { ACCESS_STATUSES, HANDLED_EVENT_TYPES, type DunningPolicy, type MemberEvent } from './messages';
import type { Draft } from './draft';
import { cancelNow, clearDunning, eventCause as cause, recover, startDunning } from './dunning-timers';
import { iso, secToIso, type Outcome } from './member-state';

/** Events that describe the billing state at their `created` time (not reminders or disputes). */
export const STATUS_BEARING: ReadonlySet<MemberEvent['type']> = new Set(
  HANDLED_EVENT_TYPES.filter((t) => t !== 'customer.subscription.trial_will_end' && t !== 'charge.dispute.created'),
);

type Handler = (d: Draft, e: MemberEvent, policy: DunningPolicy) => Outcome['note'] | void;

function isEnded(d: Draft, subscriptionId: string | undefined): boolean {
  return !!subscriptionId && d.s.endedSubscriptions.includes(subscriptionId);
}

/** Events about a subscription other than the member's current one only matter if they start a new one. */
function isCurrentSubscription(d: Draft, subscriptionId: string | undefined): boolean {
  return !subscriptionId || !d.s.subscriptionId || d.s.subscriptionId === subscriptionId;
}

function applySubscriptionFields(d: Draft, e: MemberEvent): void {
  if (e.subscriptionId) d.set('subscriptionId', e.subscriptionId);
  if (e.subscriptionStatus) d.set('subscriptionStatus', e.subscriptionStatus);
  if (e.cancelAtPeriodEnd !== undefined) d.set('cancelAtPeriodEnd', e.cancelAtPeriodEnd);
  if (e.currentPeriodEnd !== undefined) d.set('currentPeriodEnd', e.currentPeriodEnd ?? null);
  if (e.trialEnd !== undefined) d.set('trialEnd', e.trialEnd ?? null);
  // cancel_at_period_end (or an explicit cancel_at) keeps access until then, whatever the deletion event does later.
  const endsAt = e.cancelAt ?? (e.cancelAtPeriodEnd ? e.currentPeriodEnd : null);
  d.set('periodEndCancelAt', endsAt ? iso(endsAt * 1000) : null);
}

const onSubscriptionSnapshot: Handler = (d, e, policy) => {
  const subId = e.subscriptionId ?? e.objectId;
  if (isEnded(d, subId)) return 'ignored';
  const status = e.subscriptionStatus;
  const startsNew = status === 'trialing' || status === 'active' || status === 'past_due';
  if (!isCurrentSubscription(d, subId) && !(startsNew && !ACCESS_STATUSES.has(d.s.status))) return 'ignored';
  applySubscriptionFields(d, { ...e, subscriptionId: subId });
  const c = cause(e);
  switch (status) {
    case 'incomplete':
      // Waiting for the first payment: nothing to grant, and never a reason to take access away.
      return;
    case 'trialing':
      if (d.s.status === 'refunded') return 'ignored';
      clearDunning(d);
      d.transition('trialing', c);
      return;
    case 'active':
      if (d.s.status === 'refunded') return 'ignored';
      if (d.s.status === 'grace_period' || d.s.status === 'past_due') recover(d, e);
      else d.transition('active', c);
      return;
    case 'past_due':
      if (d.s.status === 'active' || d.s.status === 'trialing') startDunning(d, e, policy, null);
      else if (d.s.status === 'none' || d.s.status === 'canceled') startDunning(d, e, policy, null);
      return;
    case 'unpaid':
      // Stripe gave up retrying: the cycle ends with access denied; a later payment still recovers.
      clearDunning(d);
      if (d.s.status !== 'refunded') d.transition('past_due', c);
      return;
    case 'incomplete_expired':
    case 'canceled':
    case 'paused':
      if (d.s.status === 'refunded') return;
      cancelNow(d, c);
      return;
    default:
      return 'ignored';
  }
};

const onSubscriptionDeleted: Handler = (d, e) => {
  const subId = e.subscriptionId ?? e.objectId;
  d.set('endedSubscriptions', [...d.s.endedSubscriptions.filter((s) => s !== subId), subId].slice(-50));
  if (!isCurrentSubscription(d, subId)) return 'ignored';
  applySubscriptionFields(d, { ...e, subscriptionId: subId, subscriptionStatus: 'canceled' });
  d.set('periodEndCancelAt', null);
  if (d.s.status === 'refunded') return;
  cancelNow(d, cause(e));
};

const onTrialWillEnd: Handler = (d, e) => {
  const subId = e.subscriptionId ?? e.objectId;
  if (!isCurrentSubscription(d, subId) || isEnded(d, subId)) return 'ignored';
  applySubscriptionFields(d, { ...e, subscriptionId: subId });
  const key = `${subId}:${e.trialEnd ?? ''}`;
  if (d.s.trialRemindersSent.includes(key)) return;
  d.set('trialRemindersSent', [...d.s.trialRemindersSent, key].slice(-20));
  d.notify('trial_will_end', `${d.s.customerId}:trial_will_end:${key}`, { trialEnd: secToIso(e.trialEnd) });
};

const onCheckoutCompleted: Handler = (d, e) => {
  if (isEnded(d, e.subscriptionId)) return 'ignored';
  if (ACCESS_STATUSES.has(d.s.status) && !isCurrentSubscription(d, e.subscriptionId)) return 'ignored';
  if (e.subscriptionId && (d.s.subscriptionId === null || !ACCESS_STATUSES.has(d.s.status))) {
    d.set('subscriptionId', e.subscriptionId);
  }
  // Only a member without access is moved by checkout; subscription events carry the detailed status.
  if (ACCESS_STATUSES.has(d.s.status) || d.s.status === 'past_due') return;
  if (e.paymentStatus === 'paid') d.transition('active', cause(e));
  else if (e.paymentStatus === 'no_payment_required') d.transition('trialing', cause(e));
};

const onInvoicePaid: Handler = (d, e) => {
  if (isEnded(d, e.subscriptionId)) return 'ignored';
  if (!isCurrentSubscription(d, e.subscriptionId)) return 'ignored';
  if (e.subscriptionId && !d.s.subscriptionId) d.set('subscriptionId', e.subscriptionId);
  // A trial's $0 invoice is "paid" without a payment: it does not end the trial.
  if ((e.amountPaid ?? 0) === 0 && d.s.status === 'trialing') return;
  if (d.s.status === 'grace_period' || d.s.status === 'past_due') recover(d, e);
  else if (d.s.status !== 'active') d.transition('active', cause(e));
};

function onPaymentProblem(reason: 'failed' | 'action_required'): Handler {
  return (d, e, policy) => {
    if (isEnded(d, e.subscriptionId) || !isCurrentSubscription(d, e.subscriptionId)) return 'ignored';
    const failureReason = reason === 'action_required' ? 'authentication_required' : (e.failureReason ?? null);
    if (d.s.status === 'grace_period' || d.s.status === 'past_due') {
      // Stripe's own retries of the same invoice (attempt_count 2, 3, …) do not restart the cycle.
      if (d.s.dunning && (d.s.dunning.invoiceId === e.invoiceId || !d.s.dunning.invoiceId)) {
        d.set('dunning', {
          ...d.s.dunning,
          invoiceId: d.s.dunning.invoiceId ?? e.invoiceId,
          hostedInvoiceUrl: e.hostedInvoiceUrl ?? d.s.dunning.hostedInvoiceUrl ?? null,
          failureReason: failureReason ?? d.s.dunning.failureReason ?? null,
        });
      }
      return;
    }
    if (d.s.status !== 'active' && d.s.status !== 'trialing') return 'ignored';
    startDunning(d, e, policy, failureReason);
  };
}

const onChargeRefunded: Handler = (d, e) => {
  if (!e.fullyRefunded) return 'ignored';
  if (d.s.status === 'none' || d.s.status === 'refunded') return;
  clearDunning(d);
  d.set('periodEndCancelAt', null);
  d.transition('refunded', cause(e));
};

const onDispute: Handler = (d) => {
  d.set('disputed', true);
};

export const EVENT_HANDLERS: Record<MemberEvent['type'], Handler> = {
  'checkout.session.completed': onCheckoutCompleted,
  'customer.subscription.created': onSubscriptionSnapshot,
  'customer.subscription.updated': onSubscriptionSnapshot,
  'customer.subscription.paused': onSubscriptionSnapshot,
  'customer.subscription.resumed': onSubscriptionSnapshot,
  'customer.subscription.deleted': onSubscriptionDeleted,
  'customer.subscription.trial_will_end': onTrialWillEnd,
  'invoice.paid': onInvoicePaid,
  'invoice.payment_succeeded': onInvoicePaid,
  'invoice.payment_failed': onPaymentProblem('failed'),
  'invoice.payment_action_required': onPaymentProblem('action_required'),
  'charge.refunded': onChargeRefunded,
  'charge.dispute.created': onDispute,
};
