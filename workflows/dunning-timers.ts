/**
 * The dunning cycle and every deadline the workflow sleeps until: starting and ending a cycle, the earliest
 * deadline due, and what each timer does when it fires.
 */
import type { DunningPolicy, DunningState, MemberEvent, TimerName, TransitionCause } from './messages';
import type { Draft } from './draft';
import { iso, type MemberState, type NoticeKind, type Outcome } from './member-state';

export const eventCause = (e: MemberEvent): TransitionCause => ({ kind: 'event', eventId: e.eventId, eventType: e.type });

export function clearDunning(d: Draft): void {
  d.set('dunning', null);
}

export function startDunning(d: Draft, e: MemberEvent, policy: DunningPolicy, failureReason: string | null): void {
  const start = d.nowMs;
  const cycle = d.s.dunningCycles + 1;
  const dunning: DunningState = {
    cycleStartedAt: iso(start),
    invoiceId: e.invoiceId,
    graceEndsAt: iso(start + policy.gracePeriodMs),
    cancelsAt: iso(start + policy.cancelAfterMs),
    pendingReminders: policy.remindersMs.filter((r) => r < policy.cancelAfterMs).map((r) => iso(start + r)),
    remindersSent: 0,
    hostedInvoiceUrl: e.hostedInvoiceUrl ?? null,
    failureReason,
    policy: { ...policy, remindersMs: [...policy.remindersMs] },
    cycle,
  };
  d.set('dunningCycles', cycle);
  d.set('dunning', dunning);
  d.transition('grace_period', eventCause(e));
}

export function recover(d: Draft, e: MemberEvent): void {
  const wasInDunning = d.s.status === 'grace_period' || d.s.status === 'past_due';
  const cycle = d.s.dunning?.cycle ?? d.s.dunningCycles;
  clearDunning(d);
  d.transition('active', eventCause(e));
  if (wasInDunning)
    d.notify('payment_recovered', `${d.s.customerId}:dunning:${cycle}:recovered`, { invoiceId: e.invoiceId });
}

export function cancelNow(d: Draft, c: TransitionCause): void {
  clearDunning(d);
  d.set('periodEndCancelAt', null);
  const from = d.s.status;
  d.transition('canceled', c);
  if (from !== 'canceled' && from !== 'none')
    d.notify('canceled', `${d.s.customerId}:canceled:t${d.s.transitionCount}`);
}

/** The earliest deadline the workflow must wake up for, epoch ms, or undefined. */
export function nextDeadline(s: MemberState): { atMs: number; timer: TimerName } | undefined {
  const candidates: Array<{ atMs: number; timer: TimerName }> = [];
  if (s.dunning) {
    for (const r of s.dunning.pendingReminders) candidates.push({ atMs: Date.parse(r), timer: 'dunning_reminder' });
    if (s.status === 'grace_period')
      candidates.push({ atMs: Date.parse(s.dunning.graceEndsAt), timer: 'grace_period_end' });
    candidates.push({ atMs: Date.parse(s.dunning.cancelsAt), timer: 'dunning_cancel' });
  }
  if (s.periodEndCancelAt) candidates.push({ atMs: Date.parse(s.periodEndCancelAt), timer: 'period_end_cancel' });
  candidates.sort((a, b) => a.atMs - b.atMs);
  return candidates[0];
}

/** Fires every deadline that is due at `now`, in deadline order. */
export function applyTimers(d: Draft, note: Outcome['note'] = undefined): Outcome {
  for (;;) {
    const next = nextDeadline(d.s);
    if (!next || next.atMs > d.nowMs) break;
    const before = d.s.status;
    TIMERS[next.timer](d, { kind: 'timer', timer: next.timer });
    if (d.s.status !== before) d.note('timerAsOf', Math.max(d.s.timerAsOf, Math.floor(next.atMs / 1000)));
  }
  return d.result(note);
}

type TimerHandler = (d: Draft, c: TransitionCause) => void;

const onReminderDue: TimerHandler = (d) => {
  const dunning = d.s.dunning;
  if (!dunning) return;
  // After an outage several reminders can be due at once: send only the newest, skip the rest.
  const due = dunning.pendingReminders.filter((r) => Date.parse(r) <= d.nowMs);
  const step = dunning.remindersSent + due.length - 1;
  d.set('dunning', {
    ...dunning,
    pendingReminders: dunning.pendingReminders.filter((r) => Date.parse(r) > d.nowMs),
    remindersSent: dunning.remindersSent + due.length,
  });
  const first = step === 0;
  const kind: NoticeKind = first
    ? dunning.failureReason === 'authentication_required'
      ? 'payment_action_required'
      : 'payment_failed'
    : 'dunning_reminder';
  d.notify(kind, `${d.s.customerId}:dunning:${dunning.cycle}:reminder:${step}`, {
    hostedInvoiceUrl: dunning.hostedInvoiceUrl,
    failureReason: dunning.failureReason,
    invoiceId: dunning.invoiceId,
    reminderNumber: step,
    cancelsAt: dunning.cancelsAt,
  });
};

const onGracePeriodEnd: TimerHandler = (d, c) => {
  d.transition('past_due', c);
};

const onDunningCancel: TimerHandler = (d, c) => {
  const dunning = d.s.dunning;
  if (!dunning) return;
  const subscriptionId = d.s.subscriptionId;
  if (dunning.policy.finalAction === 'cancel_in_stripe' && subscriptionId) {
    d.effects.push({
      type: 'cancelInStripe',
      key: `${d.s.customerId}:dunning:${dunning.cycle}:cancel`,
      subscriptionId,
    });
  }
  cancelNow(d, c);
};

const onPeriodEndCancel: TimerHandler = (d, c) => {
  d.set('periodEndCancelAt', null);
  if (d.s.status === 'canceled' || d.s.status === 'refunded' || d.s.status === 'none') return;
  cancelNow(d, c);
};

const TIMERS: Record<TimerName, TimerHandler> = {
  dunning_reminder: onReminderDue,
  grace_period_end: onGracePeriodEnd,
  dunning_cancel: onDunningCancel,
  period_end_cancel: onPeriodEndCancel,
};
