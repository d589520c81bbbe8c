/**
 * A snapshot of Stripe's current state applied to a member: the canonical state is set to what Stripe says now,
 * without replaying the past. Pure, like the reducer.
 *
 * - No notices, ever: the reminders and messages a past-due member would have had are counted as sent.
 * - One transition to the current status (the CRM gets that status's tags once), none when nothing changed, so a
 *   second backfill changes nothing.
 * - Ordered like events: a snapshot taken no later than the newest status-bearing event applied (or a timer that
 *   moved the status) fills in identity only and never moves the status back.
 * - A past-due member's dunning deadlines start from Stripe's date (the latest invoice's finalization), not from now.
 */
import type { DunningPolicy, DunningState, TransitionCause } from './messages';
import { Draft } from './draft';
import { clearDunning } from './dunning-timers';
import { iso, type MemberState, type Outcome } from './member-state';
import type { MemberSnapshot, SnapshotSubscription } from './snapshot-messages';

/** Whether this snapshot would need the worker's dunning policy (a past-due member without a cycle yet). */
export function snapshotNeedsPolicy(s: MemberSnapshot): boolean {
  return s.subscription?.status === 'past_due';
}

export function applySnapshot(state: MemberState, snap: MemberSnapshot, nowMs: number, policy: DunningPolicy): Outcome {
  const d = new Draft(state, nowMs);
  const stale = snap.takenAt <= d.s.statusAsOf || snap.takenAt < d.s.timerAsOf;
  // Identity fills in from any snapshot; a fresh one may also correct it.
  if (snap.email && (stale ? !d.s.email : snap.email !== d.s.email)) d.set('email', snap.email);
  if (snap.appUserId && (stale ? !d.s.appUserId : snap.appUserId !== d.s.appUserId)) d.set('appUserId', snap.appUserId);
  if (stale) return d.result('stale');
  d.note('statusAsOf', snap.takenAt);

  const sub = snap.subscription;
  if (!sub || d.s.endedSubscriptions.includes(sub.id)) return d.result('applied');
  setSubscriptionFields(d, sub);
  const cause: TransitionCause = { kind: 'snapshot', snapshotId: snap.snapshotId };
  const status = d.s.status;
  switch (sub.status) {
    case 'trialing':
    case 'active':
      if (status === 'refunded') break;
      clearDunning(d);
      d.transition(sub.status, cause);
      break;
    case 'past_due':
      if (status === 'refunded' || endedByOurDunning(d, sub)) break;
      if ((status === 'grace_period' || status === 'past_due') && d.s.dunning) break;
      startDunningFromStripe(d, sub, policy, cause);
      break;
    case 'unpaid':
      // Stripe gave up collecting: access denied, no cycle of ours left to run.
      if (status === 'refunded' || endedByOurDunning(d, sub)) break;
      clearDunning(d);
      d.transition('past_due', cause);
      break;
    case 'canceled':
    case 'incomplete_expired':
    case 'paused':
      if (status === 'refunded') break;
      clearDunning(d);
      d.set('periodEndCancelAt', null);
      if (sub.status === 'canceled') d.set('endedSubscriptions', [...d.s.endedSubscriptions, sub.id].slice(-50));
      // A first checkout that never completed leaves nobody to cancel.
      if (!(status === 'none' && sub.status === 'incomplete_expired')) d.transition('canceled', cause);
      break;
    case 'incomplete':
      break;
  }
  return d.result('applied');
}

function setSubscriptionFields(d: Draft, sub: SnapshotSubscription): void {
  d.set('subscriptionId', sub.id);
  d.set('subscriptionStatus', sub.status);
  d.set('cancelAtPeriodEnd', sub.cancelAtPeriodEnd);
  d.set('currentPeriodEnd', sub.currentPeriodEnd);
  d.set('trialEnd', sub.trialEnd);
  const live = sub.status === 'active' || sub.status === 'trialing' || sub.status === 'past_due';
  const endsAt = sub.cancelAt ?? (sub.cancelAtPeriodEnd ? sub.currentPeriodEnd : null);
  d.set('periodEndCancelAt', live && endsAt ? iso(endsAt * 1000) : null);
  if (sub.latestInvoice?.hostedInvoiceUrl) d.set('latestInvoiceUrl', sub.latestInvoice.hostedInvoiceUrl);
}

/** Our own dunning already canceled this subscription (DUNNING_FINAL_ACTION=mark_canceled leaves Stripe past due). */
function endedByOurDunning(d: Draft, sub: SnapshotSubscription): boolean {
  return d.s.status === 'canceled' && d.s.dunningCycles > 0 && d.s.subscriptionId === sub.id && !d.s.dunning;
}

/** The dunning cycle as it would stand had it started when Stripe's first collection attempt failed. */
function startDunningFromStripe(
  d: Draft,
  sub: SnapshotSubscription,
  policy: DunningPolicy,
  cause: TransitionCause,
): void {
  const invoice = sub.latestInvoice ?? null;
  const start = invoice?.finalizedAt ? Math.min(invoice.finalizedAt * 1000, d.nowMs) : d.nowMs;
  const reminders = policy.remindersMs.filter((r) => r < policy.cancelAfterMs).map((r) => start + r);
  const cycle = d.s.dunningCycles + 1;
  const dunning: DunningState = {
    cycleStartedAt: iso(start),
    ...(invoice ? { invoiceId: invoice.id } : {}),
    graceEndsAt: iso(start + policy.gracePeriodMs),
    cancelsAt: iso(start + policy.cancelAfterMs),
    // Reminders whose time has passed are not sent late: they count as sent.
    pendingReminders: reminders.filter((at) => at > d.nowMs).map(iso),
    remindersSent: reminders.filter((at) => at <= d.nowMs).length,
    hostedInvoiceUrl: invoice?.hostedInvoiceUrl ?? null,
    failureReason: null,
    policy: { ...policy, remindersMs: [...policy.remindersMs] },
    cycle,
  };
  d.set('dunningCycles', cycle);
  d.set('dunning', dunning);
  d.transition(start + policy.gracePeriodMs > d.nowMs ? 'grace_period' : 'past_due', cause);
}
