/**
 * The membership state machine: a pure reducer `(state, input) -> { state, effects }`.
 * Deterministic and free of I/O and clocks: the workflow passes `now` in, so the same inputs
 * always give the same outputs (unit-tested without Temporal, replayed by Temporal).
 */
import type { DunningPolicy, MemberEvent } from './messages';
import { Draft } from './draft';
import { applyTimers } from './dunning-timers';
import { EVENT_HANDLERS, STATUS_BEARING } from './event-handlers';
import type { MemberState, Outcome } from './member-state';

type Input =
  | { kind: 'event'; event: MemberEvent; nowMs: number; policy: DunningPolicy }
  | { kind: 'tick'; nowMs: number }
  /** A support request about billing was handed to this member (see `billingHelpSignal`). */
  | { kind: 'billingHelp'; requestId: string; nowMs: number };

const SEEN_EVENT_WINDOW = 2000;
const OBJECT_WINDOW = 200;

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
