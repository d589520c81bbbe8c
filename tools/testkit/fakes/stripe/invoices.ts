/** Stripe invoices: retrieved by id, and listed for a customer newest first (the dunning notice's payment link). */
import { now } from '../scaffold';
import { retrieve, token, type StripeAccount, type StripeRoute } from './account';
import { listPage, newestFirst } from './lists';

export interface InvoiceSeed {
  id: string;
  customer: string;
  hosted_invoice_url?: string | null;
  status?: string;
  created?: number;
  amount_due?: number;
  subscription?: string;
}

export function invoiceRoutes(acct: StripeAccount): StripeRoute[] {
  return [
    ['GET', /^\/v1\/invoices\/(?<id>[^/]+)$/, retrieve('invoice', () => acct.invoices)],
    [
      'GET',
      /^\/v1\/invoices$/,
      (_p, _b, q) => {
        const found = [...acct.invoices.values()].filter(
          (i) => (q.customer === undefined || i.customer === q.customer) && (q.status === undefined || i.status === q.status),
        );
        return { status: 200, body: listPage(newestFirst(found), q, '/v1/invoices', 'invoice') };
      },
    ],
  ];
}

export function seedInvoice(acct: StripeAccount, i: InvoiceSeed): void {
  acct.invoices.set(i.id, {
    id: i.id,
    object: 'invoice',
    customer: i.customer,
    status: i.status ?? 'open',
    created: i.created ?? now(),
    status_transitions: {
      finalized_at: i.created ?? now(),
      paid_at: null,
      voided_at: null,
      marked_uncollectible_at: null,
    },
    parent: i.subscription
      ? { type: 'subscription_details', subscription_details: { subscription: i.subscription, metadata: {} } }
      : null,
    hosted_invoice_url:
      i.hosted_invoice_url === undefined
        ? `https://invoice.stripe.com/i/acct_fake/test_${token(24)}`
        : i.hosted_invoice_url,
    invoice_pdf: null,
    amount_due: i.amount_due ?? 1500,
    amount_paid: 0,
    amount_remaining: i.amount_due ?? 1500,
    currency: 'usd',
    livemode: false,
    metadata: {},
    number: `FAKE-${acct.invoices.size + 1}`,
  });
}
