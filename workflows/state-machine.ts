/**
 * The membership state machine: a pure reducer `(state, input) -> { state, effects }`.
 * Deterministic and free of I/O and clocks: the workflow passes `now` in, so the same inputs
 * always give the same outputs (unit-tested without Temporal, replayed by Temporal).
 */
import {
  ACCESS_STATUSES,
  HANDLED_EVENT_TYPES,
  type DunningState,
  type MemberEvent,
  type MembershipStatus,
  type MembershipView,
  type StripeSubscriptionStatus,
  type TimerName,
  type Transition,
  type TransitionCause,
} from './messages';
import { tagsForTransition, type CrmTag } from './crm-tags';

export interface DunningPolicy {
  gracePeriodMs: number;
  remindersMs: number[];
  cancelAfterMs: number;
  finalAction: 'cancel_in_stripe' | 'mark_canceled';
}

/** Everything the workflow keeps, and carries across continue-as-new. Plain JSON. */
export interface MemberState {
  customerId: string;
  status: MembershipStatus;
  email: string | null;
  appUserId: string | null;
  subscriptionId: string | null;
  subscriptionStatus: StripeSubscriptionStatus | null;
  cancelAtPeriodEnd: boolean;
  /** epoch seconds */
  currentPeriodEnd: number | null;
  /** epoch seconds */
  trialEnd: number | null;
  /** ISO deadline of the cancel-at-period-end timer */
  periodEndCancelAt: string | null;
  disputed: boolean;
  /** hosted_invoice_url of the newest invoice seen (support replies "send me my receipt" with it). */
  latestInvoiceUrl?: string | null;
  dunning: DunningState | null;
  dunningCycles: number;
  /** The newest transitions (bounded); PostgreSQL keeps all of them. */
  transitions: Array<Transition & { seq: number }>;
  transitionCount: number;
  /** Event ids already applied, newest last (bounded window, carried across continue-as-new). */
  seenEventIds: string[];
  /** Newest `created` (epoch s) of a status-bearing event applied; older events cannot move the status. */
  statusAsOf: number;
  /** Deadline (epoch s) of the last timer that moved the status; only a payment may override it with an older event. */
  timerAsOf: number;
  /** Newest `created` applied per Stripe object (bounded). */
  objectAsOf: Record<string, number>;
  /** Subscriptions Stripe deleted: no later event about them can grant access again. */
  endedSubscriptions: string[];
  /** Trial-end reminders already sent, per subscription and trial end. */
  trialRemindersSent: string[];
  version: number;
  /** ISO */
  updatedAt: string | null;
  crmContactId: string | null;
}

export type Effect =
  | { type: 'notify'; key: string; kind: NoticeKind; data: NoticeData }
  | { type: 'cancelInStripe'; key: string; subscriptionId: string }
  | { type: 'crmSync'; key: string; addTags: CrmTag[]; removeTags: CrmTag[] };

export type NoticeKind =
  | 'payment_failed'
  | 'payment_action_required'
  | 'dunning_reminder'
  | 'payment_recovered'
  | 'canceled'
  | 'trial_will_end';

export interface NoticeData {
  customerId: string;
  email: string | null;
  appUserId?: string | null;
  hostedInvoiceUrl?: string | null;
  failureReason?: string | null;
  invoiceId?: string;
  reminderNumber?: number;
  cancelsAt?: string;
  trialEnd?: string | null;
}

export type Input =
  | { kind: 'event'; event: MemberEvent; nowMs: number; policy: DunningPolicy }
  | { kind: 'tick'; nowMs: number }
  /** A support request about billing was handed to this member (see `billingHelpSignal`). */
  | { kind: 'billingHelp'; requestId: string; nowMs: number };

export interface Outcome {
  state: MemberState;
  effects: Effect[];
  /** Why an event changed nothing: duplicate, stale, ignored. */
  note?: 'duplicate' | 'stale' | 'ignored' | 'applied';
}

export const SEEN_EVENT_WINDOW = 2000;
export const OBJECT_WINDOW = 200;
export const TRANSITION_WINDOW = 100;

export function initialState(customerId: string): MemberState {
  return {
    customerId,
    status: 'none',
    email: null,
    appUserId: null,
    subscriptionId: null,
    subscriptionStatus: null,
    cancelAtPeriodEnd: false,
    currentPeriodEnd: null,
    trialEnd: null,
    periodEndCancelAt: null,
    disputed: false,
    dunning: null,
    dunningCycles: 0,
    transitions: [],
    transitionCount: 0,
    seenEventIds: [],
    statusAsOf: 0,
    timerAsOf: 0,
    objectAsOf: {},
    endedSubscriptions: [],
    trialRemindersSent: [],
    version: 0,
    updatedAt: null,
    crmContactId: null,
  };
}

const iso = (ms: number): string => new Date(ms).toISOString();
const secToIso = (s: number | null | undefined): string | null => (s ? new Date(s * 1000).toISOString() : null);

/** Access rule: reads the canonical status only. */
export function accessFor(status: MembershipStatus): { allowed: boolean; reason: string } {
  const reasons: Record<MembershipStatus, string> = {
    none: 'no subscription',
    trialing: 'trial in progress',
    active: 'subscription active',
    grace_period: 'payment failed; grace period keeps access',
    past_due: 'payment overdue; access suspended',
    canceled: 'subscription canceled',
    refunded: 'payment refunded',
  };
  return { allowed: ACCESS_STATUSES.has(status), reason: reasons[status] };
}

export function toView(s: MemberState): MembershipView {
  const access = accessFor(s.status);
  return {
    customerId: s.customerId,
    status: s.status,
    allowed: access.allowed,
    reason: access.reason,
    email: s.email,
    appUserId: s.appUserId,
    subscriptionId: s.subscriptionId,
    subscriptionStatus: s.subscriptionStatus,
    cancelAtPeriodEnd: s.cancelAtPeriodEnd,
    currentPeriodEnd: secToIso(s.currentPeriodEnd),
    trialEnd: secToIso(s.trialEnd),
    disputed: s.disputed,
    latestInvoiceUrl: s.latestInvoiceUrl ?? null,
    dunning: s.dunning,
    dunningCycles: s.dunningCycles,
    transitions: s.transitions.map(({ from, to, at, cause }) => ({ from, to, at, cause })),
    version: s.version,
    updatedAt: s.updatedAt,
    crm: { contactId: s.crmContactId },
  };
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

/** Working copy plus the effects collected while applying one input. */
class Draft {
  readonly effects: Effect[] = [];
  changed = false;
  constructor(
    public s: MemberState,
    readonly nowMs: number,
  ) {}

  set<K extends keyof MemberState>(key: K, value: MemberState[K]): void {
    if (JSON.stringify(this.s[key]) === JSON.stringify(value)) return;
    this.s = { ...this.s, [key]: value };
    this.changed = true;
  }

  /** Ordering and dedupe bookkeeping: kept in state, but not a change of the membership (no new version). */
  note<K extends 'seenEventIds' | 'objectAsOf' | 'statusAsOf' | 'timerAsOf'>(key: K, value: MemberState[K]): void {
    this.s = { ...this.s, [key]: value };
  }

  transition(to: MembershipStatus, cause: TransitionCause): void {
    const from = this.s.status;
    if (from === to) return;
    const seq = this.s.transitionCount + 1;
    const t = { from, to, at: iso(this.nowMs), cause, seq };
    this.s = {
      ...this.s,
      status: to,
      transitionCount: seq,
      transitions: [...this.s.transitions, t].slice(-TRANSITION_WINDOW),
    };
    this.changed = true;
    const tags = tagsForTransition(from, to);
    if (tags.add.length || tags.remove.length) {
      this.effects.push({
        type: 'crmSync',
        key: `${this.s.customerId}:t${seq}`,
        addTags: tags.add,
        removeTags: tags.remove,
      });
    }
  }

  notify(kind: NoticeKind, key: string, data: Partial<NoticeData> = {}): void {
    this.effects.push({
      type: 'notify',
      kind,
      key,
      data: { customerId: this.s.customerId, email: this.s.email, appUserId: this.s.appUserId, ...data },
    });
  }

  result(note: Outcome['note']): Outcome {
    let s = this.s;
    if (this.changed) s = { ...s, version: s.version + 1, updatedAt: iso(this.nowMs) };
    return { state: s, effects: this.effects, note };
  }
}

export function reduce(state: MemberState, input: Input): Outcome {
  switch (input.kind) {
    case 'tick':
      return applyTimers(new Draft(state, input.nowMs));
    case 'event':
      return applyEvent(state, input);
    case 'billingHelp':
      return applyBillingHelp(state, input);
  }
}

/**
 * A member in a dunning cycle asked support about billing: one immediate notice with the pay and card-update links,
 * keyed by the request so a repeated hand-off never sends twice. Outside a cycle there is nothing to pay.
 * Not a change of the membership: no new version, and the cycle's own reminders stay as they are.
 */
function applyBillingHelp(state: MemberState, input: Extract<Input, { kind: 'billingHelp' }>): Outcome {
  const d = new Draft(state, input.nowMs);
  const dunning = d.s.dunning;
  if (!dunning) return d.result('ignored');
  d.notify('dunning_reminder', `${d.s.customerId}:dunning:${dunning.cycle}:support:${input.requestId}`, {
    hostedInvoiceUrl: dunning.hostedInvoiceUrl,
    failureReason: dunning.failureReason,
    invoiceId: dunning.invoiceId,
    cancelsAt: dunning.cancelsAt,
  });
  return d.result('applied');
}

function applyEvent(state: MemberState, input: Extract<Input, { kind: 'event' }>): Outcome {
  const { event } = input;
  if (state.seenEventIds.includes(event.eventId)) return { state, effects: [], note: 'duplicate' };
  const d = new Draft(state, input.nowMs);
  d.note('seenEventIds', [...state.seenEventIds, event.eventId].slice(-SEEN_EVENT_WINDOW));

  // Identity fields only ever fill in or update; they never move the status.
  if (event.email && event.email !== d.s.email) d.set('email', event.email);
  if (event.appUserId && event.appUserId !== d.s.appUserId) d.set('appUserId', event.appUserId);
  if (event.hostedInvoiceUrl && event.created >= d.s.statusAsOf && event.hostedInvoiceUrl !== d.s.latestInvoiceUrl) {
    d.set('latestInvoiceUrl', event.hostedInvoiceUrl);
  }

  // Stripe does not guarantee order: an event older than what we already applied to the same object,
  // or older than the event that last set the status, may fill in details but never moves the state.
  const objectSeen = d.s.objectAsOf[event.objectId] ?? 0;
  const paymentInDunning =
    (event.type === 'invoice.paid' || event.type === 'invoice.payment_succeeded') &&
    (d.s.status === 'grace_period' || d.s.status === 'past_due');
  if (
    event.created < objectSeen ||
    event.created < d.s.statusAsOf ||
    // A payment made before a dunning timer fired but delivered after it still recovers the member.
    (event.created < d.s.timerAsOf && !paymentInDunning)
  ) {
    return d.result('stale');
  }
  const objectAsOf = { ...d.s.objectAsOf, [event.objectId]: event.created };
  const keys = Object.keys(objectAsOf);
  if (keys.length > OBJECT_WINDOW) {
    // Drop the oldest entries; an event that old is stale by statusAsOf anyway.
    keys.sort((a, b) => (objectAsOf[a] ?? 0) - (objectAsOf[b] ?? 0));
    for (const k of keys.slice(0, keys.length - OBJECT_WINDOW)) delete objectAsOf[k];
  }
  d.note('objectAsOf', objectAsOf);

  const note = EVENT_HANDLERS[event.type](d, event, input.policy);
  if (note !== 'ignored' && STATUS_BEARING.has(event.type)) {
    d.note('statusAsOf', Math.max(d.s.statusAsOf, event.created));
  }
  // Timers that are already due (e.g. the immediate first reminder) run in the same step.
  return applyTimers(d, note ?? 'applied');
}

/** Events that describe the billing state at their `created` time (not reminders or disputes). */
const STATUS_BEARING: ReadonlySet<MemberEvent['type']> = new Set(
  HANDLED_EVENT_TYPES.filter((t) => t !== 'customer.subscription.trial_will_end' && t !== 'charge.dispute.created'),
);

type Handler = (d: Draft, e: MemberEvent, policy: DunningPolicy) => Outcome['note'] | void;

const cause = (e: MemberEvent): TransitionCause => ({ kind: 'event', eventId: e.eventId, eventType: e.type });

function isEnded(d: Draft, subscriptionId: string | undefined): boolean {
  return !!subscriptionId && d.s.endedSubscriptions.includes(subscriptionId);
}

/** Events about a subscription other than the member's current one only matter if they start a new one. */
function isCurrentSubscription(d: Draft, subscriptionId: string | undefined): boolean {
  return !subscriptionId || !d.s.subscriptionId || d.s.subscriptionId === subscriptionId;
}

function clearDunning(d: Draft): void {
  d.set('dunning', null);
}

function startDunning(d: Draft, e: MemberEvent, policy: DunningPolicy, failureReason: string | null): void {
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
  d.transition('grace_period', cause(e));
}

function recover(d: Draft, e: MemberEvent): void {
  const wasInDunning = d.s.status === 'grace_period' || d.s.status === 'past_due';
  const cycle = d.s.dunning?.cycle ?? d.s.dunningCycles;
  clearDunning(d);
  d.transition('active', cause(e));
  if (wasInDunning)
    d.notify('payment_recovered', `${d.s.customerId}:dunning:${cycle}:recovered`, { invoiceId: e.invoiceId });
}

function cancelNow(d: Draft, c: TransitionCause): void {
  clearDunning(d);
  d.set('periodEndCancelAt', null);
  const from = d.s.status;
  d.transition('canceled', c);
  if (from !== 'canceled' && from !== 'none')
    d.notify('canceled', `${d.s.customerId}:canceled:t${d.s.transitionCount}`);
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

const EVENT_HANDLERS: Record<MemberEvent['type'], Handler> = {
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

/** Fires every deadline that is due at `now`, in deadline order. */
function applyTimers(d: Draft, note: Outcome['note'] = undefined): Outcome {
  for (;;) {
    const next = nextDeadline(d.s);
    if (!next || next.atMs > d.nowMs) break;
    const before = d.s.status;
    fireTimer(d, next.timer);
    if (d.s.status !== before) d.note('timerAsOf', Math.max(d.s.timerAsOf, Math.floor(next.atMs / 1000)));
  }
  return d.result(note);
}

function fireTimer(d: Draft, timer: TimerName): void {
  const dunning = d.s.dunning;
  const c: TransitionCause = { kind: 'timer', timer };
  switch (timer) {
    case 'dunning_reminder': {
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
      return;
    }
    case 'grace_period_end':
      d.transition('past_due', c);
      return;
    case 'dunning_cancel': {
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
      return;
    }
    case 'period_end_cancel':
      d.set('periodEndCancelAt', null);
      if (d.s.status === 'canceled' || d.s.status === 'refunded' || d.s.status === 'none') return;
      cancelNow(d, c);
      return;
  }
}
