/**
 * Stripe-shaped objects and events for the soak, in the shape of the API version memberops is pinned to (basil and
 * later: periods on subscription items, an invoice's subscription under `parent.subscription_details`).
 * Only what a real event carries; nothing memberops-specific.
 */
import Stripe from 'stripe';

export interface StripeEvent {
  id: string;
  object: 'event';
  api_version: string;
  created: number;
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: string;
  data: { object: Record<string, unknown>; previous_attributes?: Record<string, unknown> };
}

export const API_VERSION: string = Stripe.API_VERSION;
export const PRICE = { id: 'price_soakMonthly', amount: 2900, currency: 'usd', product: 'prod_soakCommunity' } as const;

/** Stripe's side of one subscription, as the generator evolves it. */
export interface SubscriptionState {
  id: string;
  customer: string;
  status: 'incomplete' | 'trialing' | 'active' | 'past_due' | 'unpaid' | 'canceled';
  created: number;
  currentPeriodStart: number;
  currentPeriodEnd: number;
  trialEnd: number | null;
  cancelAtPeriodEnd: boolean;
  cancelAt: number | null;
  canceledAt: number | null;
  latestInvoice: string | null;
}

export function event(
  id: string,
  type: string,
  created: number,
  object: Record<string, unknown>,
  previous?: Record<string, unknown>,
): StripeEvent {
  return {
    id,
    object: 'event',
    api_version: API_VERSION,
    created,
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
    data: { object, ...(previous ? { previous_attributes: previous } : {}) },
  };
}

export function subscriptionObject(s: SubscriptionState): Record<string, unknown> {
  return {
    id: s.id,
    object: 'subscription',
    application: null,
    billing_cycle_anchor: s.currentPeriodStart,
    cancel_at: s.cancelAt,
    cancel_at_period_end: s.cancelAtPeriodEnd,
    canceled_at: s.canceledAt,
    cancellation_details: { comment: null, feedback: null, reason: s.canceledAt ? 'cancellation_requested' : null },
    collection_method: 'charge_automatically',
    created: s.created,
    currency: PRICE.currency,
    customer: s.customer,
    default_payment_method: `pm_${s.id.slice(4)}`,
    ended_at: s.status === 'canceled' ? s.canceledAt : null,
    items: {
      object: 'list',
      data: [
        {
          id: `si_${s.id.slice(4)}`,
          object: 'subscription_item',
          created: s.created,
          current_period_start: s.currentPeriodStart,
          current_period_end: s.currentPeriodEnd,
          price: {
            id: PRICE.id,
            object: 'price',
            product: PRICE.product,
            unit_amount: PRICE.amount,
            currency: PRICE.currency,
            recurring: { interval: 'month', interval_count: 1 },
          },
          quantity: 1,
          subscription: s.id,
        },
      ],
      has_more: false,
      total_count: 1,
      url: `/v1/subscription_items?subscription=${s.id}`,
    },
    latest_invoice: s.latestInvoice,
    livemode: false,
    metadata: {},
    start_date: s.created,
    status: s.status,
    trial_end: s.trialEnd,
    trial_start: s.trialEnd ? s.created : null,
  };
}

export interface InvoiceFacts {
  id: string;
  customer: string;
  customerEmail: string;
  subscription: string;
  status: 'draft' | 'open' | 'paid';
  amountDue: number;
  amountPaid: number;
  attemptCount: number;
  billingReason: 'subscription_create' | 'subscription_cycle';
  charge: string | null;
  created: number;
  periodStart: number;
  periodEnd: number;
  nextPaymentAttempt: number | null;
}

export function invoiceObject(i: InvoiceFacts): Record<string, unknown> {
  return {
    id: i.id,
    object: 'invoice',
    account_country: 'US',
    amount_due: i.amountDue,
    amount_paid: i.amountPaid,
    amount_remaining: i.amountDue - i.amountPaid,
    attempt_count: i.attemptCount,
    attempted: i.attemptCount > 0,
    billing_reason: i.billingReason,
    collection_method: 'charge_automatically',
    created: i.created,
    currency: PRICE.currency,
    customer: i.customer,
    customer_email: i.customerEmail,
    hosted_invoice_url: `https://invoice.stripe.com/i/acct_soak/test_${i.id.slice(3)}`,
    invoice_pdf: `https://pay.stripe.com/invoice/acct_soak/test_${i.id.slice(3)}/pdf`,
    last_finalization_error: null,
    lines: {
      object: 'list',
      data: [
        {
          id: `il_${i.id.slice(3)}`,
          object: 'line_item',
          amount: i.amountDue,
          currency: PRICE.currency,
          period: { start: i.periodStart, end: i.periodEnd },
          parent: {
            type: 'subscription_item_details',
            subscription_item_details: { subscription: i.subscription, proration: false },
          },
          pricing: { type: 'price_details', price_details: { price: PRICE.id, product: PRICE.product } },
          quantity: 1,
        },
      ],
      has_more: false,
      total_count: 1,
    },
    livemode: false,
    next_payment_attempt: i.nextPaymentAttempt,
    parent: {
      type: 'subscription_details',
      quote_details: null,
      subscription_details: { metadata: {}, subscription: i.subscription },
    },
    period_end: i.periodEnd,
    period_start: i.periodStart,
    status: i.status,
    status_transitions: { finalized_at: i.created, paid_at: i.status === 'paid' ? i.created : null },
    subtotal: i.amountDue,
    total: i.amountDue,
  };
}

export interface ChargeFacts {
  id: string;
  customer: string;
  email: string;
  amount: number;
  amountRefunded: number;
  invoice: string;
  status: 'succeeded' | 'failed';
  created: number;
  failureCode?: string | null;
}

export function chargeObject(c: ChargeFacts): Record<string, unknown> {
  return {
    id: c.id,
    object: 'charge',
    amount: c.amount,
    amount_captured: c.status === 'succeeded' ? c.amount : 0,
    amount_refunded: c.amountRefunded,
    billing_details: { email: c.email, name: null },
    captured: c.status === 'succeeded',
    created: c.created,
    currency: PRICE.currency,
    customer: c.customer,
    failure_code: c.failureCode ?? null,
    failure_message: c.failureCode ? 'Your card was declined.' : null,
    invoice: c.invoice,
    livemode: false,
    paid: c.status === 'succeeded',
    payment_intent: `pi_${c.id.slice(3)}`,
    refunded: c.amountRefunded >= c.amount && c.amount > 0,
    status: c.status,
  };
}

export function disputeObject(d: {
  id: string;
  charge: string;
  amount: number;
  created: number;
}): Record<string, unknown> {
  return {
    id: d.id,
    object: 'dispute',
    amount: d.amount,
    charge: d.charge,
    created: d.created,
    currency: PRICE.currency,
    is_charge_refundable: false,
    livemode: false,
    payment_intent: `pi_${d.charge.slice(3)}`,
    reason: 'fraudulent',
    status: 'needs_response',
  };
}

export function checkoutObject(c: {
  id: string;
  customer: string;
  subscription: string;
  appUserId: string;
  email: string;
  paymentStatus: 'paid' | 'no_payment_required';
  created: number;
}): Record<string, unknown> {
  return {
    id: c.id,
    object: 'checkout.session',
    amount_total: c.paymentStatus === 'paid' ? PRICE.amount : 0,
    client_reference_id: c.appUserId,
    created: c.created,
    currency: PRICE.currency,
    customer: c.customer,
    customer_details: { email: c.email, name: null },
    customer_email: null,
    livemode: false,
    metadata: { member_id: c.appUserId },
    mode: 'subscription',
    payment_status: c.paymentStatus,
    status: 'complete',
    subscription: c.subscription,
  };
}

export function customerObject(c: { id: string; email: string; created: number }): Record<string, unknown> {
  return { id: c.id, object: 'customer', created: c.created, email: c.email, livemode: false, metadata: {} };
}
