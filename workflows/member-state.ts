/**
 * What the membership workflow keeps about a member, the effects the reducer asks for, and the view the
 * `membership` query answers. Pure data and pure functions: no I/O, no clock.
 */
import {
  ACCESS_STATUSES,
  type DunningState,
  type MembershipStatus,
  type MembershipView,
  type StripeSubscriptionStatus,
  type Transition,
} from './messages';
import type { CrmTag } from './crm-tags';
import { withOverride, type AccessOverride } from './operator-messages';

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
  /** A founder's manual access override (workflows/operator-actions.ts); absent in older histories. */
  accessOverride?: AccessOverride | null;
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

export interface Outcome {
  state: MemberState;
  effects: Effect[];
  /** Why an event changed nothing: duplicate, stale, ignored. */
  note?: 'duplicate' | 'stale' | 'ignored' | 'applied';
}

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

export const iso = (ms: number): string => new Date(ms).toISOString();
export const secToIso = (s: number | null | undefined): string | null => (s ? new Date(s * 1000).toISOString() : null);

/** Access rule: reads the canonical status only. */
function accessFor(status: MembershipStatus): { allowed: boolean; reason: string } {
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
  const access = withOverride(accessFor(s.status), s.accessOverride);
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
