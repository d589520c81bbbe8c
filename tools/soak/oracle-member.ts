/**
 * One member as the oracle models it: the documented rules applied to each event it receives and to each deadline
 * that falls due, yielding the transitions, notices and CRM tag operations memberops must have produced.
 */
import {
  ACCESS,
  crmTags,
  NOTICE_SUBJECTS,
  STATUS_BEARING,
  type Fact,
  type NoticeKind,
  type Status,
  type Tag,
} from './oracle-rules';
import type { SoakDunningPolicy } from './options';
import type { Cause, ClockWindow, ExpectedMember, ExpectedTransition, TimerKind } from './oracle-types';

interface Dunning {
  /** How uncertain its deadlines are: the clock window of the activation that started it. */
  span: number;
  cycle: number;
  reminders: number[];
  sent: number;
  graceEnd: number;
  cancelAt: number;
  failureReason: string | null;
}

interface Timer {
  kind: TimerKind;
  at: number;
  rank: number;
}

export class MemberModel {
  status: Status = 'none';
  private subscriptionId: string | null = null;
  private readonly ended = new Set<string>();
  disputed = false;
  private dunning: Dunning | null = null;
  private cycles = 0;
  private periodEndCancelAt: number | null = null;
  private statusAsOf = 0;
  private timerAsOf = 0;
  private readonly objectAsOf = new Map<string, number>();
  readonly seen: string[] = [];
  private readonly trialKeys = new Set<string>();
  readonly transitions: ExpectedTransition[] = [];
  readonly notices: ExpectedMember['notices'] = [];
  readonly tags = new Set<Tag>();
  readonly tagOps: string[] = [];
  lastDeadlineAt = 0;
  readonly clockAmbiguities: string[] = [];
  private now: number | undefined = 0;
  private window: ClockWindow | undefined;
  /** The workflow reads the worker's policy when an event starts a cycle: its clock moves on to that read. */
  private readPolicy: (() => number) | undefined;

  constructor(
    readonly customerId: string,
    private readonly policy: SoakDunningPolicy,
  ) {}

  /** One event at the workflow clock `now`: a duplicate or stale event changes nothing, not even the deadlines. */
  event(f: Fact, now: number, window: ClockWindow, readPolicy?: () => number): void {
    if (this.seen.includes(f.id)) return;
    this.now = now;
    this.window = window;
    this.readPolicy = readPolicy;
    try {
      if (this.apply(f)) this.fireDue(this.now ?? now, window);
    } finally {
      this.readPolicy = undefined;
    }
  }

  /** Notes a pending deadline that the uncertain clock of this activation could put on either side. */
  checkClock(window: ClockWindow): void {
    const d = this.dunning;
    const pending: Array<[string, number, number]> = [
      ...(d
        ? [...d.reminders, d.graceEnd, d.cancelAt].map((at): [string, number, number] => ['dunning', at, d.span])
        : []),
      ...(this.periodEndCancelAt !== null
        ? [['period end', this.periodEndCancelAt, 0] as [string, number, number]]
        : []),
    ];
    for (const [what, at, span] of pending) {
      if ((span > 0 || window.to > window.from) && at - span <= window.to && at + span >= window.from) {
        this.clockAmbiguities.push(
          `${what} deadline ${new Date(at).toISOString()} within the clock window of an activation`,
        );
      }
    }
  }

  /** The workflow woke up at `now`: every deadline due by then fires, in deadline order. */
  fireDue(now: number, window: ClockWindow): void {
    this.window = window;
    for (let t = this.nextTimer(); t && t.at <= now; t = this.nextTimer()) this.fire(t, now, now);
  }

  /**
   * Deadlines due by `asOf` that the history shows no wake-up for yet: the workflow wakes at each of them in turn
   * (so reminders are not merged), at a clock the oracle does not know.
   */
  fireEachUntil(asOf: number): void {
    this.window = undefined;
    for (let t = this.nextTimer(); t && t.at <= asOf; t = this.nextTimer()) this.fire(t, t.at, undefined);
  }

  nextTimer(): Timer | undefined {
    const c: Timer[] = [];
    const d = this.dunning;
    if (d) {
      for (const r of d.reminders) c.push({ kind: 'dunning_reminder', at: r, rank: 0 });
      if (this.status === 'grace_period') c.push({ kind: 'grace_period_end', at: d.graceEnd, rank: 1 });
      c.push({ kind: 'dunning_cancel', at: d.cancelAt, rank: 2 });
    }
    if (this.periodEndCancelAt !== null) c.push({ kind: 'period_end_cancel', at: this.periodEndCancelAt, rank: 3 });
    c.sort((a, b) => a.at - b.at || a.rank - b.rank);
    return c[0];
  }

  private fire(t: Timer, now: number, clock: number | undefined): void {
    this.now = clock;
    this.lastDeadlineAt = Math.max(this.lastDeadlineAt, t.at);
    const before = this.status;
    const cause: Cause = { kind: 'timer', timer: t.kind };
    const d = this.dunning;
    if (t.kind === 'dunning_reminder' && d) {
      // Several reminders due at once (after an outage): only the newest is sent.
      const due = d.reminders.filter((r) => r <= now);
      d.reminders = d.reminders.filter((r) => r > now);
      const step = d.sent + due.length - 1;
      d.sent += due.length;
      const kind: NoticeKind =
        step > 0
          ? 'dunning_reminder'
          : d.failureReason === 'authentication_required'
            ? 'payment_action_required'
            : 'payment_failed';
      this.notify(kind, `dunning:${d.cycle}:reminder:${step}`);
    } else if (t.kind === 'grace_period_end') {
      this.transition('past_due', cause);
    } else if (t.kind === 'dunning_cancel') {
      this.cancelNow(cause);
    } else if (t.kind === 'period_end_cancel') {
      this.periodEndCancelAt = null;
      if (this.status !== 'canceled' && this.status !== 'refunded' && this.status !== 'none') this.cancelNow(cause);
    }
    if (this.status !== before) this.timerAsOf = Math.max(this.timerAsOf, Math.floor(t.at / 1000));
  }

  /** False when the event is stale: Stripe's order is not guaranteed, so an older event never moves the state. */
  private apply(f: Fact): boolean {
    this.seen.push(f.id);
    const paymentInDunning =
      (f.type === 'invoice.paid' || f.type === 'invoice.payment_succeeded') &&
      (this.status === 'grace_period' || this.status === 'past_due');
    const stale =
      f.created < (this.objectAsOf.get(f.objectId) ?? 0) ||
      f.created < this.statusAsOf ||
      (f.created < this.timerAsOf && !paymentInDunning);
    if (stale) return false;
    this.objectAsOf.set(f.objectId, f.created);
    const ignored = this.handle(f) === 'ignored';
    if (!ignored && STATUS_BEARING.has(f.type)) this.statusAsOf = Math.max(this.statusAsOf, f.created);
    return true;
  }

  private isCurrent(sub: string | undefined): boolean {
    return !sub || !this.subscriptionId || this.subscriptionId === sub;
  }

  private subscriptionFields(f: Fact): void {
    if (f.subscription) this.subscriptionId = f.subscription;
    const endsAt = f.cancelAt ?? (f.cancelAtPeriodEnd ? f.currentPeriodEnd : null);
    this.periodEndCancelAt = endsAt ? endsAt * 1000 : null;
  }

  private handle(f: Fact): 'ignored' | void {
    const cause: Cause = { kind: 'event', eventId: f.id, eventType: f.type };
    const s = this.status;
    const inDunning = s === 'grace_period' || s === 'past_due';
    switch (f.type) {
      case 'customer.subscription.created':
      case 'customer.subscription.updated': {
        if (f.subscription && this.ended.has(f.subscription)) return 'ignored';
        const startsNew = f.subStatus === 'trialing' || f.subStatus === 'active' || f.subStatus === 'past_due';
        if (!this.isCurrent(f.subscription) && !(startsNew && !ACCESS.has(s))) return 'ignored';
        this.subscriptionFields(f);
        if (f.subStatus === 'incomplete') return;
        if (f.subStatus === 'trialing' || f.subStatus === 'active') {
          if (s === 'refunded') return 'ignored';
          if (f.subStatus === 'trialing') {
            this.dunning = null;
            this.transition('trialing', cause);
          } else if (inDunning) this.recover(cause);
          else this.transition('active', cause);
          return;
        }
        if (f.subStatus === 'past_due') {
          if (s === 'active' || s === 'trialing' || s === 'none' || s === 'canceled') this.startDunning(cause, null);
          return;
        }
        if (f.subStatus === 'unpaid') {
          this.dunning = null;
          if (s !== 'refunded') this.transition('past_due', cause);
          return;
        }
        if (f.subStatus === 'canceled' || f.subStatus === 'incomplete_expired' || f.subStatus === 'paused') {
          if (s !== 'refunded') this.cancelNow(cause);
          return;
        }
        return 'ignored';
      }
      case 'customer.subscription.deleted': {
        if (f.subscription) this.ended.add(f.subscription);
        if (!this.isCurrent(f.subscription)) return 'ignored';
        this.subscriptionFields(f);
        this.periodEndCancelAt = null;
        if (s !== 'refunded') this.cancelNow(cause);
        return;
      }
      case 'customer.subscription.trial_will_end': {
        if (!this.isCurrent(f.subscription) || (f.subscription && this.ended.has(f.subscription))) return 'ignored';
        this.subscriptionFields(f);
        const key = `${f.subscription}:${f.trialEnd ?? ''}`;
        if (this.trialKeys.has(key)) return;
        this.trialKeys.add(key);
        this.notify('trial_will_end', `trial_will_end:${key}`);
        return;
      }
      case 'checkout.session.completed': {
        if (f.subscription && this.ended.has(f.subscription)) return 'ignored';
        if (ACCESS.has(s) && !this.isCurrent(f.subscription)) return 'ignored';
        if (f.subscription && (this.subscriptionId === null || !ACCESS.has(s))) this.subscriptionId = f.subscription;
        if (ACCESS.has(s) || s === 'past_due') return;
        if (f.paymentStatus === 'paid') this.transition('active', cause);
        else if (f.paymentStatus === 'no_payment_required') this.transition('trialing', cause);
        return;
      }
      case 'invoice.paid':
      case 'invoice.payment_succeeded': {
        if ((f.subscription && this.ended.has(f.subscription)) || !this.isCurrent(f.subscription)) return 'ignored';
        if (f.subscription && !this.subscriptionId) this.subscriptionId = f.subscription;
        if ((f.amountPaid ?? 0) === 0 && s === 'trialing') return;
        if (inDunning) this.recover(cause);
        else if (s !== 'active') this.transition('active', cause);
        return;
      }
      case 'invoice.payment_failed':
      case 'invoice.payment_action_required': {
        if ((f.subscription && this.ended.has(f.subscription)) || !this.isCurrent(f.subscription)) return 'ignored';
        if (inDunning) return;
        if (s !== 'active' && s !== 'trialing') return 'ignored';
        this.startDunning(cause, f.type === 'invoice.payment_action_required' ? 'authentication_required' : null);
        return;
      }
      case 'charge.refunded':
        if (!f.fullyRefunded) return 'ignored';
        if (s === 'none' || s === 'refunded') return;
        this.dunning = null;
        this.periodEndCancelAt = null;
        this.transition('refunded', cause);
        return;
      case 'charge.dispute.created':
        this.disputed = true;
        return;
      default:
        return 'ignored';
    }
  }

  private transition(to: Status, cause: Cause): void {
    const from = this.status;
    if (from === to) return;
    this.status = to;
    this.transitions.push({ from, to, cause, window: this.window });
    const { add, remove } = crmTags(from, to);
    const key = `${this.customerId}:t${this.transitions.length}`;
    for (const tag of add) {
      this.tags.add(tag);
      this.tagOps.push(`${key}|add|${tag}`);
    }
    for (const tag of remove) {
      this.tags.delete(tag);
      this.tagOps.push(`${key}|remove|${tag}`);
    }
  }

  private notify(kind: NoticeKind, suffix: string): void {
    this.notices.push({ key: `${this.customerId}:${suffix}`, kind, subject: NOTICE_SUBJECTS[kind] });
  }

  private startDunning(cause: Cause, failureReason: string | null): void {
    const { graceMs, remindersMs, cancelAfterMs } = this.policy;
    if (this.readPolicy) this.now = this.readPolicy();
    const start = this.now ?? 0;
    this.cycles += 1;
    this.dunning = {
      span: this.window ? this.window.to - this.window.from : 0,
      cycle: this.cycles,
      reminders: remindersMs.filter((r) => r < cancelAfterMs).map((r) => start + r),
      sent: 0,
      graceEnd: start + graceMs,
      cancelAt: start + cancelAfterMs,
      failureReason,
    };
    this.transition('grace_period', cause);
  }

  private recover(cause: Cause): void {
    const wasInDunning = this.status === 'grace_period' || this.status === 'past_due';
    const cycle = this.dunning?.cycle ?? this.cycles;
    this.dunning = null;
    this.transition('active', cause);
    if (wasInDunning) this.notify('payment_recovered', `dunning:${cycle}:recovered`);
  }

  private cancelNow(cause: Cause): void {
    this.dunning = null;
    this.periodEndCancelAt = null;
    const from = this.status;
    this.transition('canceled', cause);
    if (from !== 'canceled' && from !== 'none') this.notify('canceled', `canceled:t${this.transitions.length}`);
  }
}
