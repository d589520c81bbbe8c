/** Stripe customers: listed newest first (with their subscriptions expanded on request) and retrieved by id. */
import { now, type Json } from '../scaffold';
import { missing, type StripeAccount, type StripeRoute } from './account';
import { expansions, listPage, matchesCreated, newestFirst } from './lists';
import { expandSubscription } from './subscriptions';

export interface CustomerSeed {
  id: string;
  email?: string | null;
  created?: number;
  metadata?: Record<string, string>;
}

/**
 * A customer with `expand` applied. `subscriptions` is an includable list on Stripe: its non-canceled
 * subscriptions, up to 10, newest first.
 */
function render(acct: StripeAccount, c: Json, expand: string[]): Json {
  if (!expand.includes('subscriptions') && !expand.some((e) => e.startsWith('subscriptions.'))) return c;
  const nested = expansions({ expand }, 'subscriptions.data.');
  const subs = newestFirst(
    [...acct.subscriptions.values()].filter((s) => s.customer === c.id && s.status !== 'canceled'),
  );
  return {
    ...c,
    subscriptions: {
      object: 'list',
      data: subs.slice(0, 10).map((s) => expandSubscription(acct, s, nested)),
      has_more: subs.length > 10,
      total_count: subs.length,
      url: `/v1/customers/${String(c.id)}/subscriptions`,
    },
  };
}

export function customerRoutes(acct: StripeAccount): StripeRoute[] {
  return [
    [
      'GET',
      /^\/v1\/customers\/(?<id>[^/]+)$/,
      (p, _b, q) => {
        const c = acct.customers.get(p.id);
        if (!c) throw missing('customer', p.id);
        return { status: 200, body: render(acct, c, expansions(q, '')) };
      },
    ],
    [
      'GET',
      /^\/v1\/customers$/,
      (_p, _b, q) => {
        const found = newestFirst(
          [...acct.customers.values()].filter(
            (c) => (q.email === undefined || c.email === q.email) && matchesCreated(q, Number(c.created)),
          ),
        );
        const page = listPage(found, q, '/v1/customers', 'customer');
        const expand = expansions(q);
        return { status: 200, body: { ...page, data: (page.data as Json[]).map((c) => render(acct, c, expand)) } };
      },
    ],
  ];
}

export function seedCustomer(acct: StripeAccount, c: CustomerSeed): void {
  acct.customers.set(c.id, {
    id: c.id,
    object: 'customer',
    address: null,
    balance: 0,
    created: c.created ?? now(),
    currency: 'usd',
    default_source: null,
    delinquent: false,
    description: null,
    email: c.email === undefined ? `${c.id}@example.com` : c.email,
    invoice_prefix: c.id.slice(4, 12).toUpperCase(),
    invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
    livemode: false,
    metadata: { ...(c.metadata ?? {}) },
    name: null,
    phone: null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: 'none',
    test_clock: null,
  });
}
