import Stripe from 'stripe';
import { classifyHttpFailure, createStripeClient } from '../lib/clients';
import { startFakeStripeApi, type FakeStripeApi } from '../tools/testkit/fakes/fake-stripe-api';
import { rejectionOf } from './helpers/rejection';

describe('fake Stripe API lists as Stripe pages them, through the real stripe library', () => {
  let fake: FakeStripeApi;
  let stripe: Stripe;

  beforeAll(async () => {
    fake = await startFakeStripeApi({ secretKey: 'sk_test_lists' });
    stripe = createStripeClient({ secretKey: 'sk_test_lists', apiBase: fake.baseUrl, timeoutMs: 2_000 });
  });
  afterEach(() => fake.reset());
  afterAll(() => fake.close());

  it('pages customers newest first with has_more and starting_after until every customer was seen once', async () => {
    const seeded = fake.seedPopulation(250);
    const seen: string[] = [];
    let startingAfter: string | undefined;
    let pages = 0;
    for (;;) {
      const page = await stripe.customers.list({
        limit: 100,
        ...(startingAfter ? { starting_after: startingAfter } : {}),
      });
      pages += 1;
      seen.push(...page.data.map((c) => c.id));
      if (!page.has_more) break;
      startingAfter = page.data[page.data.length - 1]?.id;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(seeded.map((m) => m.customerId));
  });

  it('auto-pages with the library and expands subscriptions and their latest invoice', async () => {
    const seeded = fake.seedPopulation(40);
    const all: Stripe.Customer[] = [];
    for await (const c of stripe.customers.list({ limit: 15, expand: ['data.subscriptions.data.latest_invoice'] }))
      all.push(c);
    expect(all).toHaveLength(40);
    const pastDue = seeded.find((m) => m.stripeStatus === 'past_due');
    const customer = all.find((c) => c.id === pastDue?.customerId);
    const sub = customer?.subscriptions?.data[0];
    expect(sub?.status).toBe('past_due');
    expect(typeof sub?.latest_invoice).toBe('object');
    expect((sub?.latest_invoice as Stripe.Invoice).status).toBe('open');
    const canceled = seeded.find((m) => m.stripeStatus === 'canceled');
    expect(all.find((c) => c.id === canceled?.customerId)?.subscriptions?.data).toEqual([]);
    const withAll = await stripe.subscriptions.list({ customer: canceled?.customerId, status: 'all', limit: 1 });
    expect(withAll.data.map((s) => s.status)).toEqual(['canceled']);
  });

  it('lists events by created bounds and types, newest first', async () => {
    fake.emitEvent('invoice.paid', { id: 'in_1', customer: 'cus_1' }, { created: 1000 });
    fake.emitEvent('customer.updated', { id: 'cus_1' }, { created: 1001 });
    fake.emitEvent('customer.subscription.updated', { id: 'sub_1', customer: 'cus_1' }, { created: 1002 });
    fake.emitEvent('invoice.paid', { id: 'in_2', customer: 'cus_1' }, { created: 999 });

    const page = await stripe.events.list({
      created: { gte: 1000 },
      types: ['invoice.paid', 'customer.subscription.updated'],
      limit: 100,
    });

    expect(page.data.map((e) => [e.type, e.created])).toEqual([
      ['customer.subscription.updated', 1002],
      ['invoice.paid', 1000],
    ]);
    expect(page.has_more).toBe(false);
  });

  it('answers a list with an injected 429 carrying Retry-After, then a 500, then the page', async () => {
    fake.seedPopulation(5);
    fake.fail({ status: 429, retryAfterSeconds: 3, match: { path: /^\/v1\/customers$/ } });
    fake.fail({ status: 500, match: { path: /^\/v1\/customers$/ } });

    expect(classifyHttpFailure(await rejectionOf(stripe.customers.list()))).toMatchObject({
      status: 429,
      retryAfterMs: 3000,
    });
    expect(classifyHttpFailure(await rejectionOf(stripe.customers.list()))).toMatchObject({
      status: 500,
      retryable: true,
    });
    expect((await stripe.customers.list()).data).toHaveLength(5);
  });

  it('refuses a cursor that names no object of the list, as Stripe does', async () => {
    fake.seedPopulation(3);
    const err = await rejectionOf(stripe.customers.list({ starting_after: 'cus_nope' }));
    expect(classifyHttpFailure(err)).toMatchObject({ status: 400, retryable: false });
  });
});
