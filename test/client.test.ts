/**
 * The app's typed client (client/) against a running memberops: every call, every error type, the deadline, and the
 * access cache (requests counted at a proxy in front of the API).
 */
import { Client, Connection } from '@temporalio/client';
import jwt from 'jsonwebtoken';
import { randomBytes } from 'node:crypto';
import { startApiServer, type ApiServer } from '../api/server';
import {
  createMemberopsClient,
  MemberopsError,
  MemberopsNotFoundError,
  MemberopsTimeoutError,
  MemberopsUnauthorizedError,
  MemberopsUnavailableError,
  type MemberopsClientOptions,
} from '../client';
import { createStripeClient } from '../lib/clients';
import { startFakeStripeApi, type FakeStripeApi } from '../tools/testkit/fakes/fake-stripe-api';
import { newMember, stripeEvent, type MemberIds } from '../tools/testkit/stripe-events';
import { startCountingProxy, type CountingProxy } from './helpers/counting-proxy';
import { startHarness, type Harness } from './helpers/harness';
import { waitFor } from './helpers/wait-for';

const messengerSecret = `messenger_${randomBytes(16).toString('hex')}`;
let h: Harness;
let proxy: CountingProxy;
let stripeApi: FakeStripeApi;

beforeAll(async () => {
  stripeApi = await startFakeStripeApi({ secretKey: 'sk_test_client' });
  h = await startHarness({
    stripe: createStripeClient({ secretKey: 'sk_test_client', apiBase: stripeApi.baseUrl }),
    env: { STRIPE_SECRET_KEY: 'sk_test_client', INTERCOM_MESSENGER_SECRET: messengerSecret, INTERCOM_APP_ID: 'app_client' },
  });
  proxy = await startCountingProxy(h.api.url);
});

afterAll(async () => {
  await proxy?.close();
  await h?.close();
  await stripeApi?.close();
});

const client = (opts: Partial<MemberopsClientOptions> = {}) =>
  createMemberopsClient({ baseUrl: proxy.url, apiKey: h.apiKey, ...opts });

/** A paying member known by its app user id, with the email memberops keeps for it. */
async function activeMember(): Promise<MemberIds & { appUserId: string; email: string | null }> {
  const ids = newMember();
  const m = { ...ids, appUserId: `app-${ids.customerId.slice(5)}`, email: `${ids.customerId.toLowerCase()}@members.test` };
  for (const e of [
    stripeEvent('checkout.session.completed', m, {
      object: { client_reference_id: m.appUserId, payment_status: 'paid', customer_details: { email: m.email } },
    }),
    stripeEvent('customer.subscription.created', m, { object: { status: 'active' } }),
    stripeEvent('invoice.paid', m),
  ])
    expect((await h.post(e)).status).toBe(200);
  const { email } = await h.waitForStatus(m.appUserId, 'active', 30_000);
  return { ...m, email };
}

async function cancel(m: MemberIds & { appUserId: string }): Promise<void> {
  expect((await h.post(stripeEvent('customer.subscription.deleted', m, { object: { status: 'canceled' } }))).status).toBe(200);
  await h.waitForStatus(m.appUserId, 'canceled', 30_000);
}

describe('the typed client', () => {
  it("lets an active member in and tells why, by the app's user id", async () => {
    const m = await activeMember();
    await expect(client().access(m.appUserId)).resolves.toEqual({
      memberId: m.appUserId,
      status: 'active',
      allowed: true,
      reason: expect.any(String),
    });
  });

  it('answers an unknown member as a denial with status none, not an error', async () => {
    await expect(client().access('app-nobody-here')).resolves.toMatchObject({ status: 'none', allowed: false });
  });

  it('reads the whole membership, with its transitions, in either consistency', async () => {
    const m = await activeMember();
    const eventual = await client().member(m.appUserId);
    expect(eventual).toMatchObject({ customerId: m.customerId, appUserId: m.appUserId, email: m.email, status: 'active' });
    expect(eventual.transitions.map((t) => t.to)).toContain('active');
    await expect(client().member(m.customerId, { consistency: 'strong' })).resolves.toMatchObject({ status: 'active', allowed: true });
  });

  it('raises MemberopsNotFoundError for the membership of an unknown member', async () => {
    const err = await client().member('app-nobody-here').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MemberopsNotFoundError);
    expect(err).toMatchObject({ status: 404, code: 'member_not_found' });
  });

  it("gives the Messenger a JWT that verifies for the member's app user id", async () => {
    const m = await activeMember();
    const identity = await client().messengerIdentity(m.appUserId);
    expect(identity).toMatchObject({ appId: 'app_client', userId: m.appUserId, email: m.email });
    const claims = jwt.verify(identity.token, messengerSecret, { algorithms: ['HS256'] }) as jwt.JwtPayload;
    expect(claims).toMatchObject({ user_id: m.appUserId, email: m.email });
    await expect(client().messengerIdentity('app-nobody-here')).rejects.toBeInstanceOf(MemberopsNotFoundError);
  });

  it('posts a support request and says where the reply went, never what it said', async () => {
    const m = await activeMember();
    const answer = await client().supportRequest({ memberId: m.appUserId, body: 'How do I cancel my membership?' });
    expect(answer).toEqual({ requestId: expect.any(String), intent: 'cancellation', route: 'human', deliveredVia: 'person' });
  });

  it('refuses an empty support request without a round trip', async () => {
    const before = proxy.count('/support/requests');
    const err = await client().supportRequest({ body: '   ' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MemberopsError);
    expect(err).toMatchObject({ code: 'invalid_request', message: 'body is required' });
    expect(proxy.count('/support/requests')).toBe(before);
  });

  it("opens a Billing Portal session for the member's Stripe customer, returning where the app asked", async () => {
    const m = await activeMember();
    const answer = await client().billingPortal(m.appUserId, { returnUrl: 'https://app.example/billing' });
    expect(answer.memberId).toBe(m.appUserId);
    const call = stripeApi.calls.find((c) => c.path === '/v1/billing_portal/sessions' && c.params['customer'] === m.customerId);
    expect(call).toMatchObject({ status: 200, params: { return_url: 'https://app.example/billing' } });
    expect(answer.url).toMatch(/^https:\/\/billing\.stripe\.com\/p\/session\//);
  });

  it('refuses a Billing Portal session for an unknown member, or with a return url that is not http(s)', async () => {
    await expect(client().billingPortal('app-nobody-here')).rejects.toThrow(MemberopsNotFoundError);
    await expect(client().billingPortal('app-nobody-here', { returnUrl: 'javascript:alert(1)' })).rejects.toMatchObject({
      code: 'invalid_request',
      status: undefined,
    });
    const res = await h.fetch('/members/app-nobody-here/billing-portal', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ returnUrl: 'ftp://example.com/' }),
    });
    expect(res.status).toBe(400);
  });

  it('raises MemberopsUnauthorizedError with a wrong API key', async () => {
    const err = await client({ apiKey: 'mk_wrong_key' }).access('app-anyone').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MemberopsUnauthorizedError);
    expect(err).toMatchObject({ status: 401, code: 'unauthorized' });
    expect((err as Error).message).not.toContain('mk_wrong_key');
  });

  it('gives up with MemberopsTimeoutError when memberops does not answer within the deadline', async () => {
    proxy.stall = true;
    try {
      const started = Date.now();
      await expect(client({ timeoutMs: 300 }).access('app-anyone')).rejects.toBeInstanceOf(MemberopsTimeoutError);
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      proxy.stall = false;
    }
  });

  it('raises MemberopsUnavailableError when memberops cannot be reached', async () => {
    const err = await createMemberopsClient({ baseUrl: 'http://127.0.0.1:9', apiKey: h.apiKey }).access('app-anyone').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MemberopsUnavailableError);
    expect(err).toMatchObject({ status: undefined, code: 'unreachable' });
  });
});

describe('the access cache', () => {
  const accessPath = (id: string) => `/members/${id}/access`;

  it('answers a second call within the TTL without a request, and asks again after it', async () => {
    const m = await activeMember();
    const c = client({ accessCacheSeconds: 1 });
    await c.access(m.appUserId);
    await expect(c.access(m.appUserId)).resolves.toMatchObject({ allowed: true });
    expect(proxy.count(accessPath(m.appUserId))).toBe(1);
    await waitFor(async () => (await c.access(m.appUserId)) && proxy.count(accessPath(m.appUserId)) === 2, {
      timeoutMs: 5000,
      description: 'the cached answer to expire',
    });
  });

  it('never caches a denial: a canceled member is asked about every time', async () => {
    const m = await activeMember();
    await cancel(m);
    const c = client({ accessCacheSeconds: 60 });
    await expect(c.access(m.appUserId)).resolves.toMatchObject({ status: 'canceled', allowed: false });
    await expect(c.access(m.appUserId)).resolves.toMatchObject({ status: 'canceled', allowed: false });
    expect(proxy.count(accessPath(m.appUserId))).toBe(2);
  });

  it('drops a cached allowance as soon as a denied answer comes back', async () => {
    const m = await activeMember();
    const c = client({ accessCacheSeconds: 60 });
    await expect(c.access(m.appUserId)).resolves.toMatchObject({ allowed: true });
    await cancel(m);
    await expect(c.access(m.appUserId, { consistency: 'strong' })).resolves.toMatchObject({ status: 'canceled', allowed: false });
    await expect(c.access(m.appUserId)).resolves.toMatchObject({ status: 'canceled', allowed: false });
    expect(proxy.count(accessPath(m.appUserId))).toBe(3);
  });

  it('caches nothing when the TTL is 0', async () => {
    const m = await activeMember();
    const c = client({ accessCacheSeconds: 0 });
    await c.access(m.appUserId);
    await c.access(m.appUserId);
    expect(proxy.count(accessPath(m.appUserId))).toBe(2);
  });
});

describe('a memberops whose Temporal is down', () => {
  let api: ApiServer;
  let temporal: Client;

  beforeAll(async () => {
    // Nothing listens on port 9: every Temporal call fails, as in an outage.
    temporal = new Client({ connection: Connection.lazy({ address: '127.0.0.1:9' }) });
    api = await startApiServer(h.config, { db: h.db, temporal, log: h.log });
  });
  afterAll(async () => {
    await api?.close();
    await temporal?.connection.close();
  });

  it('raises MemberopsUnavailableError with the Retry-After memberops asked for', async () => {
    const m = await activeMember();
    const c = createMemberopsClient({ baseUrl: api.url, apiKey: h.apiKey, timeoutMs: 15_000 });
    const err = await c.access(m.customerId, { consistency: 'strong' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MemberopsUnavailableError);
    expect(err).toMatchObject({ status: 503, code: 'temporal_unavailable', retryAfterSeconds: 5 });
  });
});
