/**
 * The Stripe side of one member's story: the subscription as Stripe holds it, the ids Stripe would mint, and the events
 * it emits (each at a planned real time, `created` in epoch seconds of that time). member-story.ts tells the story.
 */
import type { Rng } from './random';
import {
  chargeObject,
  event,
  invoiceObject,
  subscriptionObject,
  type InvoiceFacts,
  type StripeEvent,
  type SubscriptionState,
} from './stripe-shapes';
import type { SoakDunningPolicy } from './options';

/** memberops handles these; everything else it records as ignored_unhandled. */
export const HANDLED_TYPES: ReadonlySet<string> = new Set([
  'checkout.session.completed',
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'customer.subscription.paused',
  'customer.subscription.resumed',
  'customer.subscription.trial_will_end',
  'invoice.paid',
  'invoice.payment_succeeded',
  'invoice.payment_failed',
  'invoice.payment_action_required',
  'charge.refunded',
  'charge.dispute.created',
]);

export interface StoryEvent {
  atMs: number;
  event: StripeEvent;
}

export interface MemberIdentity {
  index: number;
  customerId: string;
  subscriptionId: string;
  email: string;
  /** Only members who sign up through Checkout this month pass the app's user id. */
  appUserId: string | null;
}

export interface Timing {
  /** Epoch ms of day 0 of the month. */
  t0: number;
  dayMs: number;
  days: number;
  policy: SoakDunningPolicy;
  /** Real time between a deadline and an event the outcome depends on being on one side of it. */
  marginMs: number;
  /** Nothing is planned after this (the month plus the longest dunning cycle). */
  horizonMs: number;
}

/** Spacing of the events of one action: `created` strictly increases per member, as Stripe's mostly do. */
export const STEP_MS = 1000;

export class StripeSide {
  readonly events: StoryEvent[] = [];
  /** What happened, in words (report and debugging). */
  readonly labels: string[] = [];
  /** Timer deadlines the workflow will hold (epoch ms): late deliveries must not cross them. */
  readonly deadlines: number[] = [];
  /** Charges Stripe knows (seeded into the fake Stripe API for dispute look-ups). */
  readonly charges: Array<{ id: string; amount: number }> = [];
  protected sub: SubscriptionState;
  protected lastCharge: { id: string; amount: number; refunded: number; invoice: string } | null = null;
  private seq = 0;

  constructor(
    readonly who: MemberIdentity,
    protected readonly rng: Rng,
    protected readonly t: Timing,
  ) {
    this.sub = {
      id: who.subscriptionId,
      customer: who.customerId,
      status: 'incomplete',
      created: 0,
      currentPeriodStart: 0,
      currentPeriodEnd: 0,
      trialEnd: null,
      cancelAtPeriodEnd: false,
      cancelAt: null,
      canceledAt: null,
      latestInvoice: null,
    };
  }

  day(d: number): number {
    return this.t.t0 + d * this.t.dayMs;
  }

  get monthEnd(): number {
    return this.day(this.t.days);
  }

  /** The Stripe subscription status right now (for the plan's own decisions). */
  get subStatus(): SubscriptionState['status'] {
    return this.sub.status;
  }

  get hasCharge(): boolean {
    return this.lastCharge !== null;
  }

  protected id(prefix: string): string {
    this.seq += 1;
    return `${prefix}_${this.who.customerId.slice(4)}${this.seq.toString(36)}${this.rng.token(6)}`;
  }

  protected emit(
    atMs: number,
    type: string,
    object: Record<string, unknown>,
    previous?: Record<string, unknown>,
  ): void {
    this.events.push({ atMs, event: event(this.id('evt'), type, Math.floor(atMs / 1000), object, previous) });
  }

  protected subEvent(atMs: number, type: string, previous?: Record<string, unknown>): void {
    this.emit(atMs, type, subscriptionObject({ ...this.sub }), previous);
  }

  protected invoice(facts: Omit<InvoiceFacts, 'customer' | 'customerEmail' | 'subscription'>): Record<string, unknown> {
    return invoiceObject({
      ...facts,
      customer: this.who.customerId,
      customerEmail: this.who.email,
      subscription: this.sub.id,
    });
  }

  protected newCharge(atMs: number, invoiceId: string, status: 'succeeded' | 'failed', amount: number): string {
    const id = this.id('ch');
    this.emit(
      atMs,
      status === 'succeeded' ? 'charge.succeeded' : 'charge.failed',
      chargeObject({
        id,
        customer: this.who.customerId,
        email: this.who.email,
        amount,
        amountRefunded: 0,
        invoice: invoiceId,
        status,
        created: Math.floor(atMs / 1000),
        failureCode:
          status === 'failed' ? this.rng.pick(['card_declined', 'insufficient_funds', 'expired_card']) : null,
      }),
    );
    if (status === 'succeeded') {
      this.charges.push({ id, amount });
      this.lastCharge = { id, amount, refunded: 0, invoice: invoiceId };
    }
    return id;
  }
}
