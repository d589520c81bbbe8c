import { readFileSync } from 'node:fs';
import path from 'node:path';
import { IntercomError, IntercomTimeoutError, type IntercomClient } from 'intercom-client';
import Stripe from 'stripe';
import { classifyHttpFailure, createIntercomClient, createStripeClient } from '../lib/clients';
import { signIntercomWebhook, startFakeIntercom, type FakeIntercom } from '../tools/testkit/fakes/fake-intercom';
import { startFakeStripeApi, type FakeStripeApi } from '../tools/testkit/fakes/fake-stripe-api';

const FIXTURES = path.join(__dirname, 'fixtures', 'intercom');

/** Resolves with what the promise rejected with, failing the test if it resolved. */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (err: unknown) => err,
  );
}

describe('fake Intercom driven by the real intercom-client', () => {
  let fake: FakeIntercom;
  let intercom: IntercomClient;

  beforeAll(async () => {
    fake = await startFakeIntercom({ token: 'tok_test_intercom' });
    intercom = createIntercomClient({ token: fake.token, baseUrl: fake.baseUrl, timeoutMs: 2_000 });
  });
  afterEach(() => fake.reset());
  afterAll(() => fake.close());

  async function createMember(externalId = 'cus_123', email = 'ada@example.com'): Promise<string> {
    const contact = await intercom.contacts.create({ external_id: externalId, email, name: 'Ada' });
    return contact.id;
  }

  it('creates a contact the fake then knows by external id', async () => {
    const contact = await intercom.contacts.create({ external_id: 'cus_123', email: 'ada@example.com' });

    expect(contact).toMatchObject({ type: 'contact', role: 'user', external_id: 'cus_123', email: 'ada@example.com' });
    expect(fake.contactByExternalId('cus_123')?.id).toBe(contact.id);
    const found = await intercom.contacts.showContactByExternalId({ external_id: 'cus_123' });
    expect(found.id).toBe(contact.id);
  });

  it('answers a duplicate external id with 409 conflict, which is not retryable', async () => {
    const id = await createMember();

    const err = await rejectionOf(intercom.contacts.create({ external_id: 'cus_123', email: 'other@example.com' }));

    expect(err).toBeInstanceOf(IntercomError);
    expect(err).toMatchObject({
      statusCode: 409,
      body: {
        type: 'error.list',
        errors: [{ code: 'conflict', message: `A contact matching those details already exists with id=${id}` }],
      },
    });
    expect(classifyHttpFailure(err)).toMatchObject({ retryable: false, status: 409 });
  });

  it('answers a duplicate email with 409 conflict too', async () => {
    await createMember('cus_1', 'ada@example.com');
    await expect(intercom.contacts.create({ email: 'ADA@example.com' })).rejects.toMatchObject({ statusCode: 409 });
  });

  it('finds contacts by external id and by email, alone or in an OR query', async () => {
    const ada = await createMember('cus_1', 'ada@example.com');
    const bob = await createMember('cus_2', 'bob@example.com');

    const byExternalId = await intercom.contacts.search({
      query: { field: 'external_id', operator: '=', value: 'cus_2' },
    });
    const either = await intercom.contacts.search({
      query: {
        operator: 'OR',
        value: [
          { field: 'external_id', operator: '=', value: 'cus_nobody' },
          { field: 'email', operator: '=', value: 'ada@example.com' },
        ],
      },
    });

    expect(byExternalId.data.map((c) => c.id)).toEqual([bob]);
    expect(either.data.map((c) => c.id)).toEqual([ada]);
  });

  it('keeps a new contact out of search until the index catches up', async () => {
    const lagging = await startFakeIntercom({ searchIndexLagMs: 60_000 });
    try {
      const client = createIntercomClient({ token: lagging.token, baseUrl: lagging.baseUrl });
      await client.contacts.create({ external_id: 'cus_9' });
      const page = await client.contacts.search({ query: { field: 'external_id', operator: '=', value: 'cus_9' } });
      expect(page.data).toEqual([]);
    } finally {
      await lagging.close();
    }
  });

  it('rejects custom attributes that were never defined, and accepts them once they are', async () => {
    const id = await createMember();

    await expect(
      intercom.contacts.update({ contact_id: id, custom_attributes: { plan: 'pro' } }),
    ).rejects.toMatchObject({
      statusCode: 400,
    });
    // intercom-client 7.0.3 types CreateDataAttributeRequest without name/model, though the API requires both.
    const attribute = { name: 'plan', model: 'contact', data_type: 'string' } as Parameters<
      typeof intercom.dataAttributes.create
    >[0];
    await intercom.dataAttributes.create(attribute);
    const updated = await intercom.contacts.update({ contact_id: id, custom_attributes: { plan: 'pro' } });

    expect(updated.custom_attributes).toEqual({ plan: 'pro' });
    expect(fake.contact(id)?.custom_attributes).toEqual({ plan: 'pro' });
  });

  it('creates a tag by name, applies it to a contact and removes it again', async () => {
    const id = await createMember();

    const tag = await intercom.tags.create({ name: 'past_due' });
    const again = await intercom.tags.create({ name: 'past_due' });
    await intercom.tags.tagContact({ contact_id: id, id: tag.id });
    expect(fake.tagsOf(id)).toEqual(['past_due']);
    await intercom.tags.untagContact({ contact_id: id, tag_id: tag.id });

    expect(again.id).toBe(tag.id);
    expect(fake.tagsOf(id)).toEqual([]);
  });

  it('delivers an admin-initiated message and a note to the contact', async () => {
    const id = await createMember();
    const admins = await intercom.admins.list();
    const adminId = admins.admins?.[0]?.id ?? '';

    const message = await intercom.messages.create({
      message_type: 'email',
      subject: 'Your payment failed',
      body: 'Please update your card.',
      template: 'plain',
      from: { type: 'admin', id: Number(adminId) },
      to: { type: 'user', id },
    });
    await intercom.notes.create({ contact_id: id, body: 'Dunning started', admin_id: adminId });

    expect(message).toMatchObject({ type: 'admin_message', message_type: 'email' });
    expect(fake.messagesTo(id)).toEqual([
      expect.objectContaining({ subject: 'Your payment failed', fromAdminId: fake.adminId }),
    ]);
    expect(fake.notesOf(id).map((n) => n.body)).toEqual(['Dunning started']);
  });

  it('replies to, assigns and tags a conversation', async () => {
    const id = await createMember();
    const conversationId = fake.createConversation({ contactId: id, body: '<p>I was charged twice</p>' });
    const tag = await intercom.tags.create({ name: 'billing' });

    await intercom.conversations.reply({
      conversation_id: conversationId,
      body: { message_type: 'note', type: 'admin', admin_id: fake.adminId, body: 'Refund pending' },
    });
    await intercom.conversations.manage({
      conversation_id: conversationId,
      body: { message_type: 'assignment', type: 'admin', admin_id: fake.adminId, assignee_id: fake.adminId },
    });
    await intercom.tags.tagConversation({ conversation_id: conversationId, id: tag.id, admin_id: fake.adminId });
    const conversation = await intercom.conversations.find({ conversation_id: conversationId });

    expect(conversation.admin_assignee_id).toBe(Number(fake.adminId));
    expect(conversation.conversation_parts?.conversation_parts?.map((p) => p.part_type)).toEqual([
      'note',
      'assignment',
    ]);
    expect(conversation.tags?.tags?.map((t) => t.name)).toEqual(['billing']);
  });

  it('receives the bearer token and API version on every call', async () => {
    const id = await createMember();
    await intercom.contacts.find({ contact_id: id });
    await intercom.tags.list();
    await intercom.admins.identify();

    expect(fake.calls).toHaveLength(4);
    for (const call of fake.calls) {
      expect(call).toMatchObject({ authorization: 'Bearer tok_test_intercom', intercomVersion: '2.14', status: 200 });
    }
  });

  it('answers a wrong token with 401 in Intercom’s error shape, which is not retryable', async () => {
    const stranger = createIntercomClient({ token: 'wrong', baseUrl: fake.baseUrl });

    const err = await rejectionOf(stranger.tags.list());

    expect(err).toMatchObject({
      statusCode: 401,
      body: { type: 'error.list', errors: [{ code: 'unauthorized', message: 'Access Token Invalid' }] },
    });
    const failure = classifyHttpFailure(err);
    expect(failure).toMatchObject({ retryable: false, status: 401, requestId: fake.calls[0]?.requestId });
    expect(failure.message).not.toContain('wrong');
  });

  it('surfaces an injected 429 as retryable with the server’s Retry-After, after exactly one call', async () => {
    fake.fail({ status: 429, retryAfterSeconds: 7, match: { method: 'POST', path: /^\/contacts$/ } });

    const err = await rejectionOf(intercom.contacts.create({ external_id: 'cus_429' }));

    expect(err).toMatchObject({ statusCode: 429, body: { errors: [{ code: 'rate_limit_exceeded' }] } });
    expect(classifyHttpFailure(err)).toMatchObject({ retryable: true, status: 429, retryAfterMs: 7_000 });
    expect(fake.countCalls('POST', /^\/contacts$/)).toBe(1);
  });

  it('surfaces a 500 as retryable without the library retrying it', async () => {
    fake.fail({ status: 500 });

    const err = await rejectionOf(intercom.tags.list());

    expect(classifyHttpFailure(err)).toMatchObject({ retryable: true, status: 500 });
    expect(fake.countCalls('GET', /^\/tags$/)).toBe(1);
  });

  it('classifies a load balancer’s HTML 502 as retryable', async () => {
    fake.fail({ status: 502, html: true });

    const failure = classifyHttpFailure(await rejectionOf(intercom.tags.list()));

    expect(failure).toEqual(
      expect.objectContaining({ retryable: true, status: 502, message: 'Intercom 502: non-JSON (HTML) response' }),
    );
  });

  it('turns a response slower than the client timeout into a retryable timeout, though the write happened', async () => {
    const impatient = createIntercomClient({ token: fake.token, baseUrl: fake.baseUrl, timeoutMs: 200 });
    fake.delay(1_000);

    const err = await rejectionOf(impatient.contacts.create({ external_id: 'cus_slow' }));

    // intercom-client 7.0.3 aborts with the reason "timeout", so its IntercomTimeoutError is never thrown.
    expect(err).toBeInstanceOf(IntercomError);
    expect(err).not.toBeInstanceOf(IntercomTimeoutError);
    expect(err).toMatchObject({ message: '"timeout"', statusCode: undefined });
    expect(classifyHttpFailure(err)).toEqual({ retryable: true, message: 'Intercom timeout: no response in time' });
    expect(fake.contactByExternalId('cus_slow')).toBeDefined();
  });

  it('classifies refused and reset connections as retryable', async () => {
    // intercom-client 7.0.3 leaves its timeout timer running when fetch rejects; a short one keeps jest from waiting.
    const client = createIntercomClient({ token: fake.token, baseUrl: fake.baseUrl, timeoutMs: 100 });
    await fake.down('reset');
    const reset = classifyHttpFailure(await rejectionOf(client.tags.list()));
    await fake.down('refuse');
    const refused = classifyHttpFailure(await rejectionOf(client.tags.list()));
    await fake.up();

    expect([reset.retryable, refused.retryable]).toEqual([true, true]);
    expect(refused.message).toMatch(/^Intercom request got no response/);
    await expect(client.tags.list()).resolves.toMatchObject({ type: 'list' });
  });

  it('signs webhook bodies exactly as Intercom does', () => {
    const body = readFileSync(path.join(FIXTURES, 'conversation.user.created.json'), 'utf8');
    const expected = readFileSync(path.join(FIXTURES, 'conversation.user.created.X-Hub-Signature.txt'), 'utf8').trim();

    expect(signIntercomWebhook(body, 'test_client_secret')).toBe(expected);
  });
});

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
