/** Stripe subscriptions: retrieved, updated (cancel at period end, metadata, cancellation details) and canceled. */
import { now, type Json } from '../scaffold';
import { bool, checkParams, missing, StripeApiError, token, type StripeAccount, type StripeRoute } from './account';
import { expansions, listPage, matchesCreated, newestFirst } from './lists';

export interface SubscriptionSeed {
  id: string;
  customer: string;
  status?: string;
  price?: string;
  cancel_at_period_end?: boolean;
  /** epoch seconds; default a day ago */
  created?: number;
  trial_end?: number | null;
  latest_invoice?: string | null;
}

/** A subscription with `latest_invoice` expanded when asked for. */
export function expandSubscription(acct: StripeAccount, s: Json, expand: string[]): Json {
  if (!expand.includes('latest_invoice') || typeof s.latest_invoice !== 'string') return s;
  return { ...s, latest_invoice: acct.invoices.get(s.latest_invoice) ?? s.latest_invoice };
}

const mustSubscription = (acct: StripeAccount, id: string): Json => {
  const s = acct.subscriptions.get(id);
  if (!s) throw missing('subscription', id);
  return s;
};
const periodEnd = (s: Json): number => {
  const items = (s.items as { data: Array<{ current_period_end: number }> }).data;
  return items[0]?.current_period_end ?? now();
};

export function subscriptionRoutes(acct: StripeAccount): StripeRoute[] {
  return [
    [
      'GET',
      /^\/v1\/subscriptions$/,
      (_p, _b, q) => {
        // Without `status`, Stripe lists every subscription except canceled ones; `all` includes them.
        const status = q.status === undefined ? undefined : String(q.status);
        const found = newestFirst(
          [...acct.subscriptions.values()].filter(
            (s) =>
              (q.customer === undefined || s.customer === q.customer) &&
              (status === 'all' || (status === undefined ? s.status !== 'canceled' : s.status === status)) &&
              matchesCreated(q, Number(s.created)),
          ),
        );
        const page = listPage(found, q, '/v1/subscriptions', 'subscription');
        const expand = expansions(q);
        return {
          status: 200,
          body: { ...page, data: (page.data as Json[]).map((s) => expandSubscription(acct, s, expand)) },
        };
      },
    ],
    [
      'GET',
      /^\/v1\/subscriptions\/(?<id>[^/]+)$/,
      (p, _b, q) => ({ status: 200, body: expandSubscription(acct, mustSubscription(acct, p.id), expansions(q, '')) }),
    ],
    [
      'POST',
      /^\/v1\/subscriptions\/(?<id>[^/]+)$/,
      (p, b) => {
        const s = mustSubscription(acct, p.id);
        checkParams(b, [
          'cancel_at_period_end',
          'cancel_at',
          'cancellation_details',
          'metadata',
          'description',
          'proration_behavior',
          'expand',
        ]);
        if (
          s.status === 'canceled' &&
          Object.keys(b).some((k) => !['cancellation_details', 'metadata', 'expand'].includes(k))
        ) {
          throw new StripeApiError(
            400,
            'invalid_request_error',
            'A canceled subscription can only update its cancellation_details and metadata.',
          );
        }
        const atPeriodEnd = bool(b.cancel_at_period_end);
        if (atPeriodEnd !== undefined)
          Object.assign(s, {
            cancel_at_period_end: atPeriodEnd,
            cancel_at: atPeriodEnd ? periodEnd(s) : null,
            canceled_at: atPeriodEnd ? now() : null,
          });
        if (b.cancel_at !== undefined) Object.assign(s, { cancel_at: b.cancel_at === '' ? null : Number(b.cancel_at) });
        if (typeof b.description === 'string') s.description = b.description || null;
        if (typeof b.metadata === 'object' && b.metadata !== null) {
          const meta = s.metadata as Json;
          for (const [k, v] of Object.entries(b.metadata))
            if (v === '') delete meta[k];
            else meta[k] = v;
        }
        if (typeof b.cancellation_details === 'object' && b.cancellation_details !== null) {
          Object.assign(s.cancellation_details as Json, b.cancellation_details);
        }
        acct.effect('subscription.updated', p.id);
        return { status: 200, body: s };
      },
    ],
    [
      'DELETE',
      /^\/v1\/subscriptions\/(?<id>[^/]+)$/,
      (p, b) => {
        const s = mustSubscription(acct, p.id);
        checkParams(b, ['cancellation_details', 'invoice_now', 'prorate', 'expand']);
        // Stripe treats a canceled subscription as gone for cancel purposes: the repeat is a 404, not a replay.
        if (s.status === 'canceled') throw missing('subscription', p.id);
        const details = (b.cancellation_details ?? {}) as Json;
        Object.assign(s, {
          status: 'canceled',
          canceled_at: now(),
          ended_at: now(),
          cancel_at: null,
          cancel_at_period_end: false,
          cancellation_details: {
            comment: details.comment ?? null,
            feedback: details.feedback ?? null,
            reason: 'cancellation_requested',
          },
        });
        acct.effect('subscription.canceled', p.id);
        return { status: 200, body: s };
      },
    ],
  ];
}

/** A subscription as Stripe (API 2025+) returns it: the billing period lives on its items. */
export function seedSubscription(acct: StripeAccount, s: SubscriptionSeed): void {
  const start = s.created ?? now() - 86_400;
  const end = start + 30 * 86_400;
  const price = s.price ?? 'price_fake_monthly';
  acct.subscriptions.set(s.id, {
    id: s.id,
    object: 'subscription',
    application: null,
    application_fee_percent: null,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null },
    billing_cycle_anchor: start,
    billing_cycle_anchor_config: null,
    billing_mode: { type: 'flexible' },
    billing_thresholds: null,
    cancel_at: s.cancel_at_period_end ? end : null,
    cancel_at_period_end: s.cancel_at_period_end ?? false,
    canceled_at: null,
    cancellation_details: { comment: null, feedback: null, reason: null },
    collection_method: 'charge_automatically',
    created: start,
    currency: 'usd',
    customer: s.customer,
    customer_account: null,
    days_until_due: null,
    default_payment_method: null,
    default_source: null,
    description: null,
    discounts: [],
    ended_at: null,
    invoice_settings: { account_tax_ids: null, issuer: { type: 'self' } },
    items: {
      object: 'list',
      has_more: false,
      total_count: 1,
      url: `/v1/subscription_items?subscription=${s.id}`,
      data: [
        {
          id: `si_${token(14)}`,
          object: 'subscription_item',
          created: start,
          current_period_start: start,
          current_period_end: end,
          metadata: {},
          quantity: 1,
          subscription: s.id,
          price: {
            id: price,
            object: 'price',
            currency: 'usd',
            unit_amount: 1500,
            recurring: { interval: 'month', interval_count: 1 },
          },
        },
      ],
    },
    latest_invoice: s.latest_invoice ?? null,
    livemode: false,
    metadata: {},
    next_pending_invoice_item_invoice: null,
    on_behalf_of: null,
    pause_collection: null,
    payment_settings: null,
    pending_invoice_item_interval: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: null,
    start_date: start,
    status: s.status ?? 'active',
    test_clock: null,
    transfer_data: null,
    trial_end: s.trial_end ?? null,
    trial_settings: null,
    trial_start: s.trial_end ? start : null,
  });
}
