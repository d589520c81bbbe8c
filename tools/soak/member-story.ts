/**
 * One member's month as Stripe would tell it: the events of each business action (signup, renewal, failed payment and
 * Stripe's retries, recovery, cancellation, refund, dispute), with a consistent Stripe-side subscription behind every
 * snapshot (stripe-side.ts).
 */
import { PRICE, chargeObject, checkoutObject, customerObject, disputeObject } from './stripe-shapes';
import { STEP_MS, StripeSide } from './stripe-side';

export { HANDLED_TYPES, type MemberIdentity, type StoryEvent, type Timing } from './stripe-side';

export class MemberStory extends StripeSide {
  /** An existing member: memberops sees their subscription for the first time when Stripe next touches it. */
  existing(atMs: number, periodEndMs: number): void {
    const end = Math.floor(periodEndMs / 1000);
    Object.assign(this.sub, {
      status: 'active',
      created: end - 90 * 86_400,
      currentPeriodStart: end - 30 * 86_400,
      currentPeriodEnd: end,
    });
    // The previous renewal's charge exists in Stripe (disputes and refunds may name it).
    const id = this.id('ch');
    this.charges.push({ id, amount: PRICE.amount });
    this.lastCharge = { id, amount: PRICE.amount, refunded: 0, invoice: this.id('in') };
    this.subEvent(atMs, 'customer.subscription.updated', { metadata: { plan_note: null } });
    this.labels.push('existing');
  }

  /** Checkout signup, paid now or with a trial; returns the time the member has access. */
  signup(atMs: number, trialDays: number | null): number {
    const created = Math.floor(atMs / 1000);
    const trialEnd = trialDays ? Math.floor((atMs + trialDays * this.t.dayMs) / 1000) : null;
    Object.assign(this.sub, {
      status: trialDays ? 'trialing' : 'incomplete',
      created,
      currentPeriodStart: created,
      currentPeriodEnd: trialEnd ?? created + Math.floor((30 * this.t.dayMs) / 1000),
      trialEnd,
    });
    let at = atMs;
    const next = (): number => (at += STEP_MS);
    this.emit(at, 'customer.created', customerObject({ id: this.who.customerId, email: this.who.email, created }));
    this.subEvent(next(), 'customer.subscription.created');
    const inv = this.id('in');
    this.sub.latestInvoice = inv;
    const amount = trialDays ? 0 : PRICE.amount;
    const facts = {
      id: inv,
      status: 'paid' as const,
      amountDue: amount,
      amountPaid: amount,
      attemptCount: trialDays ? 0 : 1,
      billingReason: 'subscription_create' as const,
      charge: null,
      created,
      periodStart: created,
      periodEnd: this.sub.currentPeriodEnd,
      nextPaymentAttempt: null,
    };
    if (!trialDays) this.newCharge(next(), inv, 'succeeded', amount);
    this.emit(next(), 'invoice.paid', this.invoice(facts));
    this.emit(next(), 'invoice.payment_succeeded', this.invoice(facts));
    if (!trialDays) {
      this.sub.status = 'active';
      this.subEvent(next(), 'customer.subscription.updated', { status: 'incomplete' });
    }
    this.emit(
      next(),
      'checkout.session.completed',
      checkoutObject({
        id: this.id('cs'),
        customer: this.who.customerId,
        subscription: this.sub.id,
        appUserId: this.who.appUserId ?? this.who.customerId,
        email: this.who.email,
        paymentStatus: trialDays ? 'no_payment_required' : 'paid',
        created: Math.floor(at / 1000),
      }),
    );
    this.labels.push(trialDays ? 'signup-trial' : 'signup-paid');
    return at;
  }

  trialWillEnd(atMs: number): void {
    this.subEvent(atMs, 'customer.subscription.trial_will_end');
    this.labels.push('trial-will-end');
  }

  /** A successful period payment (renewal, or the end of a trial); returns when it is done. */
  renew(atMs: number): number {
    let at = atMs;
    const next = (): number => (at += STEP_MS);
    const wasTrial = this.sub.status === 'trialing';
    const start = this.sub.currentPeriodEnd;
    const end = start + Math.floor((30 * this.t.dayMs) / 1000);
    const inv = this.id('in');
    const facts = {
      id: inv,
      status: 'paid' as const,
      amountDue: PRICE.amount,
      amountPaid: PRICE.amount,
      attemptCount: 1,
      billingReason: 'subscription_cycle' as const,
      charge: null,
      created: Math.floor(at / 1000),
      periodStart: start,
      periodEnd: end,
      nextPaymentAttempt: null,
    };
    this.emit(at, 'invoice.created', this.invoice({ ...facts, status: 'draft', amountPaid: 0, attemptCount: 0 }));
    this.newCharge(next(), inv, 'succeeded', PRICE.amount);
    this.emit(next(), 'invoice.paid', this.invoice(facts));
    this.emit(next(), 'invoice.payment_succeeded', this.invoice(facts));
    Object.assign(this.sub, { status: 'active', currentPeriodStart: start, currentPeriodEnd: end, latestInvoice: inv });
    this.subEvent(
      next(),
      'customer.subscription.updated',
      wasTrial ? { status: 'trialing' } : { current_period_end: start },
    );
    this.labels.push(wasTrial ? 'trial-converted' : 'renewed');
    return at;
  }

  /**
   * A failed period payment, Stripe's retries and how it ends. The cycle starts when memberops processes the first
   * failure; every event the outcome depends on sits in the middle of a window between the workflow's deadlines.
   */
  dunning(atMs: number, outcome: DunningOutcome, sca: boolean): { endMs: number; recovered: boolean } {
    const { graceMs, remindersMs, cancelAfterMs } = this.t.policy;
    const unit = graceMs / 3;
    const prevStatus = this.sub.status;
    const inv = this.id('in');
    const start = this.sub.currentPeriodEnd;
    const end = start + Math.floor((30 * this.t.dayMs) / 1000);
    const base = {
      id: inv,
      status: 'open' as const,
      amountDue: PRICE.amount,
      amountPaid: 0,
      billingReason: 'subscription_cycle' as const,
      charge: null,
      created: Math.floor(atMs / 1000),
      periodStart: start,
      periodEnd: end,
    };
    const failure = (at: number, attempt: number, type: string): number => {
      this.newCharge(at, inv, 'failed', PRICE.amount);
      this.emit(
        at + STEP_MS,
        type,
        this.invoice({ ...base, attemptCount: attempt, nextPaymentAttempt: Math.floor((at + unit) / 1000) }),
      );
      return at + STEP_MS;
    };
    this.emit(
      atMs,
      'invoice.created',
      this.invoice({ ...base, status: 'draft', attemptCount: 0, nextPaymentAttempt: null }),
    );
    const cycleStart = failure(atMs + STEP_MS, 1, sca ? 'invoice.payment_action_required' : 'invoice.payment_failed');
    Object.assign(this.sub, { status: 'past_due', latestInvoice: inv });
    this.subEvent(cycleStart + STEP_MS, 'customer.subscription.updated', { status: prevStatus });
    for (const r of [...remindersMs, graceMs, cancelAfterMs]) if (r > 0) this.deadlines.push(cycleStart + r);
    this.labels.push(`${sca ? 'sca-' : ''}payment-failed`);

    const decidedAt =
      cycleStart + { early: 1.5, mid: 4.5, late: 7.5, stripe_cancels: 7.5, unpaid: 7.5, none: 9 }[outcome] * unit;
    // Stripe's smart retries, each between two deadlines (they change nothing visible, only the ordering watermark).
    let attempt = 1;
    for (const offset of [1, 2, 4, 5, 7, 8]) {
      const at = cycleStart + offset * unit;
      if (at + 2 * STEP_MS >= decidedAt) break;
      failure(at, ++attempt, 'invoice.payment_failed');
    }
    if (outcome === 'early' || outcome === 'mid' || outcome === 'late') {
      let at = decidedAt;
      const paid = {
        ...base,
        status: 'paid' as const,
        amountPaid: PRICE.amount,
        attemptCount: attempt + 1,
        nextPaymentAttempt: null,
      };
      this.newCharge(at, inv, 'succeeded', PRICE.amount);
      this.emit((at += STEP_MS), 'invoice.paid', this.invoice(paid));
      this.emit((at += STEP_MS), 'invoice.payment_succeeded', this.invoice(paid));
      Object.assign(this.sub, { status: 'active', currentPeriodStart: start, currentPeriodEnd: end });
      this.subEvent((at += STEP_MS), 'customer.subscription.updated', { status: 'past_due' });
      this.labels.push(`recovered-${outcome}`);
      return { endMs: at, recovered: true };
    }
    if (outcome === 'stripe_cancels') {
      this.cancelNow(decidedAt, 'stripe-canceled-unpaid');
    } else if (outcome === 'unpaid') {
      this.sub.status = 'unpaid';
      this.subEvent(decidedAt, 'customer.subscription.updated', { status: 'past_due' });
      this.labels.push('stripe-marked-unpaid');
    } else {
      this.labels.push('dunning-exhausted');
    }
    return { endMs: cycleStart + cancelAfterMs, recovered: false };
  }

  cancelNow(atMs: number, label = 'canceled-now'): void {
    const at = Math.floor(atMs / 1000);
    const previous = this.sub.status;
    Object.assign(this.sub, { status: 'canceled', canceledAt: at, cancelAtPeriodEnd: false, cancelAt: null });
    this.subEvent(atMs, 'customer.subscription.deleted', { status: previous });
    this.labels.push(label);
  }

  /**
   * cancel_at_period_end: access until the period ends, then memberops' timer cancels (and Stripe's deletion follows).
   * `undoAtMs` reverts it before then. False (nothing planned) when the period ends too close or after the horizon.
   */
  cancelAtPeriodEnd(atMs: number, undoAtMs: number | null): boolean {
    const periodEnd = this.sub.currentPeriodEnd * 1000;
    if (atMs > periodEnd - this.t.marginMs || periodEnd + 2 * this.t.marginMs > this.t.horizonMs) return false;
    if (undoAtMs !== null && undoAtMs > periodEnd - this.t.marginMs) return false;
    Object.assign(this.sub, {
      cancelAtPeriodEnd: true,
      cancelAt: this.sub.currentPeriodEnd,
      canceledAt: Math.floor(atMs / 1000),
    });
    this.subEvent(atMs, 'customer.subscription.updated', { cancel_at_period_end: false, cancel_at: null });
    this.deadlines.push(periodEnd);
    if (undoAtMs !== null) {
      Object.assign(this.sub, { cancelAtPeriodEnd: false, cancelAt: null, canceledAt: null });
      this.subEvent(undoAtMs, 'customer.subscription.updated', { cancel_at_period_end: true });
      this.labels.push('cancel-at-period-end-undone');
      return true;
    }
    this.labels.push('cancel-at-period-end');
    // Stripe ends the subscription at the period end; memberops' own timer has canceled the member by then.
    Object.assign(this.sub, { status: 'canceled', cancelAtPeriodEnd: false });
    this.subEvent(periodEnd + this.t.marginMs, 'customer.subscription.deleted', { status: 'active' });
    return true;
  }

  get periodEndMs(): number {
    return this.sub.currentPeriodEnd * 1000;
  }

  refund(atMs: number, full: boolean): boolean {
    const c = this.lastCharge;
    if (!c || c.refunded >= c.amount) return false;
    c.refunded = full ? c.amount : Math.min(c.amount, c.refunded + Math.round(c.amount * 0.3));
    this.emit(
      atMs,
      'charge.refunded',
      chargeObject({
        id: c.id,
        customer: this.who.customerId,
        email: this.who.email,
        amount: c.amount,
        amountRefunded: c.refunded,
        invoice: c.invoice,
        status: 'succeeded',
        created: Math.floor(atMs / 1000),
      }),
    );
    this.labels.push(full ? 'refunded-full' : 'refunded-partial');
    return true;
  }

  dispute(atMs: number): boolean {
    const c = this.lastCharge;
    if (!c) return false;
    const id = this.id('du');
    this.emit(
      atMs,
      'charge.dispute.created',
      disputeObject({ id, charge: c.id, amount: c.amount, created: Math.floor(atMs / 1000) }),
    );
    this.emit(
      atMs + STEP_MS,
      'charge.dispute.funds_withdrawn',
      disputeObject({ id, charge: c.id, amount: c.amount, created: Math.floor(atMs / 1000) }),
    );
    this.labels.push('disputed');
    return true;
  }
}

export type DunningOutcome = 'early' | 'mid' | 'late' | 'stripe_cancels' | 'unpaid' | 'none';
