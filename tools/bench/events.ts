/**
 * Stripe event plans for `npm run bench`: the same real-shaped fixtures the tests use, re-addressed to fresh members,
 * in realistic per-member sequences, interleaved across members the way Stripe delivers a busy account's events.
 */
import { newMember, stripeEvent, type MemberIds, type StripeEventJson } from '../testkit/stripe-events';
import type { MembershipStatus } from '../../workflows/messages';

export interface PlannedEvent {
  customerId: string;
  type: string;
  /** The JSON body, serialised once; it is signed at send time (Stripe refuses signatures older than 300 s). */
  body: string;
  /**
   * A status the member cannot show before this event is projected (checkout: active, a failure: grace_period), so a
   * probe that sees it knows the projection caught up. A recovery's `active` is not one: the member showed it before.
   */
  probeStatus?: MembershipStatus;
}

export interface EventPlan {
  members: MemberIds[];
  /** In delivery order: round r holds every member's r-th event, so one member's events are far apart in time. */
  events: PlannedEvent[];
  /** Status of each member once every event is projected. */
  finalStatus: Map<string, MembershipStatus>;
  /** Newest `created` per member, so that a later event is never taken for a stale one. */
  lastCreated: Map<string, number>;
}

/** One member in `dunningEvery` also fails a payment and recovers (invoice.payment_failed, then invoice.paid). */
export function planMemberEvents(memberCount: number, opts: { dunningEvery: number }): EventPlan {
  const members: MemberIds[] = [];
  const sequences: PlannedEvent[][] = [];
  const finalStatus = new Map<string, MembershipStatus>();
  const lastCreated = new Map<string, number>();
  const base = Math.floor(Date.now() / 1000);
  for (let i = 0; i < memberCount; i++) {
    const m = newMember();
    members.push(m);
    // Explicit `created` per member: nextCreated() would push a 1,000-member plan an hour into the future.
    let created = base;
    const at = (): { created: number } => ({ created: created++ });
    const seq: Array<[StripeEventJson, MembershipStatus | undefined]> = [
      [
        stripeEvent('checkout.session.completed', m, {
          ...at(),
          object: { client_reference_id: `user_${m.customerId.slice(5)}`, payment_status: 'paid' },
        }),
        'active',
      ],
      [stripeEvent('customer.subscription.created', m, { ...at(), object: { status: 'active' } }), undefined],
      [stripeEvent('invoice.paid', m, at()), undefined],
    ];
    if (i % opts.dunningEvery === opts.dunningEvery - 1) {
      seq.push([stripeEvent('invoice.payment_failed', m, at()), 'grace_period']);
      seq.push([stripeEvent('invoice.paid', m, at()), undefined]);
    }
    sequences.push(seq.map(([e, to]) => planned(m, e, to)));
    finalStatus.set(m.customerId, 'active');
    lastCreated.set(m.customerId, created - 1);
  }
  const events: PlannedEvent[] = [];
  const rounds = Math.max(0, ...sequences.map((s) => s.length));
  for (let r = 0; r < rounds; r++) {
    for (const seq of sequences) {
      const e = seq[r];
      if (e) events.push(e);
    }
  }
  return { members, events, finalStatus, lastCreated };
}

/** A payment failure for an active member: moves it to grace_period (used to measure projection lag at rest). */
export function paymentFailure(plan: EventPlan, m: MemberIds): PlannedEvent {
  const created = Math.max((plan.lastCreated.get(m.customerId) ?? 0) + 1, Math.floor(Date.now() / 1000));
  plan.lastCreated.set(m.customerId, created);
  plan.finalStatus.set(m.customerId, 'grace_period');
  return planned(m, stripeEvent('invoice.payment_failed', m, { created }), 'grace_period');
}

function planned(m: MemberIds, event: StripeEventJson, probeStatus: MembershipStatus | undefined): PlannedEvent {
  return {
    customerId: m.customerId,
    type: event.type,
    body: JSON.stringify(event),
    ...(probeStatus ? { probeStatus } : {}),
  };
}
