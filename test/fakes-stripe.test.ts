import Stripe from 'stripe';
import { classifyHttpFailure, createStripeClient } from '../lib/clients';
import { startFakeStripeApi, type FakeStripeApi } from '../tools/testkit/fakes/fake-stripe-api';
import { rejectionOf } from './helpers/rejection';

describe('fake Stripe API driven by the real stripe library', () => {
  let fake: FakeStripeApi;
  let stripe: Stripe;

  beforeAll(async () => {
    fake = await startFakeStripeApi({ secretKey: 'sk_test_fake123' });
    stripe = createStripeClient({ secretKey: 'sk_test_fake123', apiBase: fake.baseUrl, timeoutMs: 2_000 });
  });
  afterEach(() => fake.reset());
  afterAll(() => fake.close());

  it('cancels a subscription once however often the cancel is repeated with the same key', async () => {
    fake.seedSubscription({ id: 'sub_1', customer: 'cus_1' });

    const first = await stripe.subscriptions.cancel('sub_1', {}, { idempotencyKey: 'member-cus_1/cancel/1' });
    const repeat = await rejectionOf(
      stripe.subscriptions.cancel('sub_1', {}, { idempotencyKey: 'member-cus_1/cancel/1' }),
    );

    expect(first).toMatchObject({ id: 'sub_1', object: 'subscription', status: 'canceled' });
    expect(fake.cancelCalls('sub_1')).toBe(1);
    expect(fake.calls.map((c) => c.idempotencyKey)).toEqual(['member-cus_1/cancel/1', 'member-cus_1/cancel/1']);
    // Stripe ignores idempotency keys on DELETE: the repeat is answered 404 resource_missing, not replayed.
    expect(repeat).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(repeat).toMatchObject({ statusCode: 404, code: 'resource_missing' });
    expect(classifyHttpFailure(repeat)).toMatchObject({ retryable: false, status: 404 });
  });

  it('replays a POST with the same idempotency key instead of applying it twice', async () => {
    fake.seedSubscription({ id: 'sub_2', customer: 'cus_2' });
    const update = (): Promise<Stripe.Subscription> =>
      stripe.subscriptions.update('sub_2', { cancel_at_period_end: true }, { idempotencyKey: 'member-cus_2/end/1' });

    const first = await update();
    const second = await update();

    expect(second).toEqual(first);
    expect(first.cancel_at_period_end).toBe(true);
    expect(fake.effects.filter((e) => e.kind === 'subscription.updated')).toHaveLength(1);
    expect(fake.calls.map((c) => c.replayed)).toEqual([false, true]);
  });

  it('rejects an idempotency key reused with different parameters', async () => {
    fake.seedSubscription({ id: 'sub_3', customer: 'cus_3' });
    await stripe.subscriptions.update('sub_3', { cancel_at_period_end: true }, { idempotencyKey: 'k1' });

    const err = await rejectionOf(
      stripe.subscriptions.update('sub_3', { cancel_at_period_end: false }, { idempotencyKey: 'k1' }),
    );

    expect(err).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(classifyHttpFailure(err)).toMatchObject({ retryable: false, status: 400 });
  });

  it('creates a billing portal session with a url', async () => {
    const session = await stripe.billingPortal.sessions.create({
      customer: 'cus_4',
      return_url: 'https://app.example/account',
    });

    expect(session).toMatchObject({
      object: 'billing_portal.session',
      customer: 'cus_4',
      return_url: 'https://app.example/account',
    });
    expect(session.id).toMatch(/^bps_/);
    expect(session.url).toMatch(/^https:\/\/billing\.stripe\.com\/p\/session\/test_/);
  });

  it('retrieves a seeded charge with its customer, and the latest invoice of a customer', async () => {
    fake.seedCharge({ id: 'ch_1', customer: 'cus_5' });
    fake.seedInvoice({ id: 'in_old', customer: 'cus_5', created: 1_000, status: 'paid' });
    fake.seedInvoice({
      id: 'in_new',
      customer: 'cus_5',
      created: 2_000,
      hosted_invoice_url: 'https://invoice.stripe.com/i/x',
    });

    const charge = await stripe.charges.retrieve('ch_1');
    const invoices = await stripe.invoices.list({ customer: 'cus_5', limit: 1 });

    expect(charge).toMatchObject({ id: 'ch_1', object: 'charge', customer: 'cus_5' });
    expect(invoices.data.map((i) => [i.id, i.hosted_invoice_url])).toEqual([
      ['in_new', 'https://invoice.stripe.com/i/x'],
    ]);
    expect(invoices.has_more).toBe(true);
    expect(fake.calls[0]).toMatchObject({ authorization: 'Bearer sk_test_fake123' });
  });

  it('surfaces a 500 after exactly one request, classified retryable', async () => {
    fake.seedSubscription({ id: 'sub_6', customer: 'cus_6' });
    fake.fail({ status: 500 });

    const err = await rejectionOf(stripe.subscriptions.cancel('sub_6'));

    expect(err).toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect(classifyHttpFailure(err)).toMatchObject({ retryable: true, status: 500 });
    expect(fake.rawCalls()).toBe(1);
    expect(fake.cancelCalls('sub_6')).toBe(0);
  });

  it('surfaces a 429 with Retry-After as retryable with that delay', async () => {
    fake.fail({ status: 429, retryAfterSeconds: 2 });

    const failure = classifyHttpFailure(await rejectionOf(stripe.charges.retrieve('ch_x')));

    expect(failure).toMatchObject({ retryable: true, status: 429, retryAfterMs: 2_000 });
    expect(failure.requestId).toMatch(/^req_/);
    expect(fake.rawCalls()).toBe(1);
  });

  it('treats a wrong key as permanent and keeps the key out of the message', async () => {
    const stranger = createStripeClient({ secretKey: 'sk_test_wrongkey999', apiBase: fake.baseUrl });

    const failure = classifyHttpFailure(await rejectionOf(stranger.charges.retrieve('ch_1')));

    expect(failure).toMatchObject({ retryable: false, status: 401 });
    expect(failure.message).not.toContain('sk_test_wrongkey999');
  });

  it('turns a response slower than the timeout into a retryable connection error', async () => {
    const impatient = createStripeClient({ secretKey: 'sk_test_fake123', apiBase: fake.baseUrl, timeoutMs: 200 });
    fake.seedCharge({ id: 'ch_2', customer: 'cus_7' });
    fake.delay(1_000);

    const err = await rejectionOf(impatient.charges.retrieve('ch_2'));

    expect(err).toBeInstanceOf(Stripe.errors.StripeConnectionError);
    expect(classifyHttpFailure(err)).toMatchObject({ retryable: true });
    expect(fake.rawCalls()).toBe(1);
  });

  it('retries a reset connection once by itself even with maxNetworkRetries 0', async () => {
    await fake.down('reset');

    const err = await rejectionOf(stripe.charges.retrieve('ch_1'));

    // stripe-node retries ECONNRESET/EPIPE once regardless of maxNetworkRetries (stripe-node#1040).
    expect(fake.rawCalls()).toBe(2);
    expect(err).toBeInstanceOf(Stripe.errors.StripeConnectionError);
    expect(classifyHttpFailure(err)).toMatchObject({ retryable: true });
  });

  it('classifies an edge proxy’s HTML 502, which stripe-node reports without a status, as retryable', async () => {
    fake.fail({ status: 502, html: true });

    const err = await rejectionOf(stripe.charges.retrieve('ch_1'));

    expect(err).toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect(err).toMatchObject({ statusCode: undefined });
    expect(classifyHttpFailure(err)).toMatchObject({ retryable: true });
  });

  it('classifies a refused connection as retryable', async () => {
    await fake.down('refuse');

    const failure = classifyHttpFailure(await rejectionOf(stripe.charges.retrieve('ch_1')));

    expect(failure).toMatchObject({ retryable: true });
    expect(failure.message).toContain('ECONNREFUSED');
  });
});
