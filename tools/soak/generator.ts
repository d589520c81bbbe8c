/**
 * The traffic generator's plan: a realistic month for N members (who signs up, with or without a trial, who renews,
 * whose card fails and how that ends, who cancels, is refunded or disputes), then Stripe's delivery habits on top:
 * some deliveries repeated, some delivered late, after newer events of the same member.
 */
import { dunningPolicy, type SoakDunningPolicy, type SoakOptions } from './options';
import { Rng } from './random';
import { HANDLED_TYPES, MemberStory, type DunningOutcome, type MemberIdentity, type Timing } from './member-story';

export interface PlannedDelivery {
  /** Global order of planning (ties in time keep it). */
  seq: number;
  member: number;
  customerId: string;
  eventId: string;
  type: string;
  created: number;
  /** The exact bytes sent, every time (duplicates and retries resend the same body). */
  body: string;
  /** Epoch ms at which the delivery is due. */
  atMs: number;
  duplicate: boolean;
  /** Delivered after newer events of the same member on purpose. */
  late: boolean;
  handled: boolean;
}

export interface MemberPlan extends MemberIdentity {
  existing: boolean;
  labels: string[];
  charges: Array<{ id: string; amount: number }>;
}

export interface Plan {
  t0: number;
  dayMs: number;
  monthEndMs: number;
  /** Latest planned delivery or deadline. */
  endMs: number;
  policy: SoakDunningPolicy;
  members: MemberPlan[];
  /** Every delivery, in due order. */
  deliveries: PlannedDelivery[];
  counts: { events: number; deliveries: number; duplicates: number; late: number; handled: number; unhandled: number };
}

/** Dunning outcomes and how often they happen. */
const DUNNING_OUTCOMES: Record<DunningOutcome, number> = {
  early: 35,
  mid: 20,
  late: 10,
  stripe_cancels: 10,
  unpaid: 5,
  none: 20,
};

export function planMonth(o: SoakOptions, t0: number): Plan {
  const dayMs = (86_400 * 1000) / o.speedup;
  const policy = dunningPolicy(o);
  const marginMs = Math.max(4000, policy.graceMs / 6);
  const monthEndMs = t0 + o.days * dayMs;
  const timing: Timing = { t0, dayMs, days: o.days, policy, marginMs, horizonMs: monthEndMs + policy.cancelAfterMs };
  const tag = new Rng(o.seed).token(4);
  const members: MemberPlan[] = [];
  const deliveries: PlannedDelivery[] = [];
  let seq = 0;
  let events = 0;
  let endMs = monthEndMs;
  const owed = { late: 0 };
  for (let i = 0; i < o.members; i++) {
    const rng = Rng.derive(o.seed, i);
    const existing = rng.chance(0.6);
    const who: MemberIdentity = {
      index: i,
      customerId: `cus_S${tag}${i.toString().padStart(5, '0')}`,
      subscriptionId: `sub_S${tag}${i.toString().padStart(5, '0')}`,
      email: `member${i}.${tag.toLowerCase()}@soak.test`,
      appUserId: existing ? null : `user_${tag}_${i}`,
    };
    const story = new MemberStory(who, rng, timing);
    if (existing) planExisting(story, rng);
    else planNewcomer(story, rng);
    const timeline = deliverLikeStripe(story, rng, o, timing, owed);
    for (const d of timeline) {
      deliveries.push({ ...d, seq: seq++ });
      endMs = Math.max(endMs, d.atMs);
    }
    for (const dl of story.deadlines) endMs = Math.max(endMs, dl);
    events += story.events.length;
    members.push({ ...who, existing, labels: story.labels, charges: story.charges });
  }
  deliveries.sort((a, b) => a.atMs - b.atMs || a.seq - b.seq);
  const duplicates = deliveries.filter((d) => d.duplicate).length;
  const handled = deliveries.filter((d) => !d.duplicate && d.handled).length;
  return {
    t0,
    dayMs,
    monthEndMs,
    endMs,
    policy,
    members,
    deliveries,
    counts: {
      events,
      deliveries: deliveries.length,
      duplicates,
      late: deliveries.filter((d) => d.late).length,
      handled,
      unhandled: events - handled,
    },
  };
}

function planExisting(s: MemberStory, rng: Rng): void {
  const days = (s.monthEnd - s.day(0)) / (s.day(1) - s.day(0));
  const renewalDay = rng.between(2, days - 1);
  // memberops first hears of an existing member when Stripe next touches the subscription: spread over the first days
  // (a real month, not an import), always before the member's own action or renewal.
  const firstTouch = rng.between(0.02, Math.min(2, renewalDay - 1.5));
  s.existing(s.day(firstTouch), s.day(renewalDay));
  const action = rng.weighted({ none: 80, cap: 9, capUndone: 3, cancelNow: 4, partialRefund: 2, dispute: 2 });
  const actionAt = s.day(rng.between(firstTouch + 0.3, renewalDay - 1));
  switch (action) {
    case 'cap':
      if (s.cancelAtPeriodEnd(actionAt, null)) return;
      break;
    case 'capUndone': {
      const undoBy = s.periodEndMs - 1.5 * (s.day(1) - s.day(0));
      s.cancelAtPeriodEnd(actionAt, actionAt + 1000 + rng.between(0.2, 0.6) * Math.max(0, undoBy - actionAt - 1000));
      break;
    }
    case 'cancelNow':
      s.cancelNow(actionAt);
      return;
    case 'partialRefund':
      s.refund(actionAt, false);
      break;
    case 'dispute':
      s.dispute(actionAt);
      break;
  }
  const renewAt = s.periodEndMs;
  if (rng.chance(0.15)) {
    const r = s.dunning(renewAt, rng.weighted(DUNNING_OUTCOMES), rng.chance(0.2));
    if (r.recovered) planLaterLife(s, rng, r.endMs);
    return;
  }
  planLaterLife(s, rng, s.renew(renewAt));
}

function planNewcomer(s: MemberStory, rng: Rng): void {
  const days = (s.monthEnd - s.day(0)) / (s.day(1) - s.day(0));
  const signupDay = rng.between(0.05, days - 0.5);
  const trial = rng.chance(0.4);
  const trialDays = 7;
  const accessFrom = s.signup(s.day(signupDay), trial ? trialDays : null);
  if (!trial) {
    planLaterLife(s, rng, accessFrom);
    return;
  }
  const trialEnd = s.day(signupDay + trialDays);
  const fate = rng.weighted({ convert: 70, fail: 15, cancel: 15 });
  if (fate === 'cancel') {
    const at = accessFrom + rng.between(0.3, trialDays - 0.5) * (s.day(1) - s.day(0));
    if (at < s.monthEnd) s.cancelNow(at, 'canceled-in-trial');
    return;
  }
  const willEnd = trialEnd - 3 * (s.day(1) - s.day(0));
  if (willEnd < s.monthEnd && willEnd > accessFrom + 1000) s.trialWillEnd(willEnd);
  if (trialEnd >= s.monthEnd) return;
  if (fate === 'fail') {
    const r = s.dunning(trialEnd, rng.weighted(DUNNING_OUTCOMES), rng.chance(0.2));
    if (r.recovered) planLaterLife(s, rng, r.endMs);
    return;
  }
  planLaterLife(s, rng, s.renew(trialEnd));
}

/** What a paying member may still do this month after `fromMs`. */
function planLaterLife(s: MemberStory, rng: Rng, fromMs: number): void {
  const dayMs = s.day(1) - s.day(0);
  const at = fromMs + rng.between(0.5, 6) * dayMs;
  if (at >= s.monthEnd - 0.2 * dayMs) return;
  const action = rng.weighted({ none: 78, partialRefund: 4, refundAndCancel: 4, dispute: 4, cancelNow: 4, cap: 6 });
  switch (action) {
    case 'partialRefund':
      s.refund(at, false);
      return;
    case 'refundAndCancel':
      // The founder refunds and cancels; Stripe's two events come in either order.
      if (rng.chance(0.5)) {
        if (s.refund(at, true)) s.cancelNow(at + 1000);
      } else {
        s.cancelNow(at);
        s.refund(at + 1000, true);
      }
      return;
    case 'dispute':
      if (s.dispute(at) && rng.chance(0.4)) s.cancelNow(at + 0.5 * dayMs);
      return;
    case 'cancelNow':
      s.cancelNow(at);
      return;
    case 'cap':
      s.cancelAtPeriodEnd(at, null);
      return;
  }
}

/**
 * Turns the story into deliveries: each event once at its time, about `lateRate` of them late (after the next one to
 * three events of the member, never across one of its timer deadlines) and about `duplicateRate` sent again later.
 * A late delivery drawn for an event that cannot be late (the member's last, or near a deadline) is owed to the next
 * one that can, so the rate holds.
 */
function deliverLikeStripe(
  s: MemberStory,
  rng: Rng,
  o: SoakOptions,
  t: Timing,
  owed: { late: number },
): Array<Omit<PlannedDelivery, 'seq'>> {
  const evs = [...s.events].sort((a, b) => a.atMs - b.atMs);
  const out: Array<Omit<PlannedDelivery, 'seq'>> = [];
  const maxLateMs = Math.max(3000, 2 * t.dayMs);
  const crossesDeadline = (from: number, to: number): boolean =>
    s.deadlines.some((d) => d > from - t.marginMs && d < to + t.marginMs);
  evs.forEach((e, j) => {
    let atMs = e.atMs;
    let late = false;
    if (rng.chance(o.lateRate)) owed.late += 1;
    if (owed.late > 0) {
      const k = rng.int(1, 3);
      const after = evs[j + k];
      const target = after ? after.atMs + 300 : undefined;
      if (target !== undefined && target - e.atMs <= maxLateMs && !crossesDeadline(e.atMs, target)) {
        atMs = target;
        late = true;
        owed.late -= 1;
      }
    }
    const base = {
      member: s.who.index,
      customerId: s.who.customerId,
      eventId: e.event.id,
      type: e.event.type,
      created: e.event.created,
      body: JSON.stringify(e.event),
      handled: HANDLED_TYPES.has(e.event.type),
    };
    out.push({ ...base, atMs, duplicate: false, late });
    if (rng.chance(o.duplicateRate)) {
      out.push({ ...base, atMs: atMs + rng.between(200, Math.max(1000, 1.5 * t.dayMs)), duplicate: true, late: false });
    }
  });
  return out;
}
