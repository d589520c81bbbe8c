/**
 * The support stack of a test file: local Intercom and Stripe stand-ins, one Intercom workspace over the real
 * intercom-client, a harness with support configured, and the helpers that drive and read support requests.
 */
import { randomBytes } from 'node:crypto';
import { createIntercomWorkspace } from '../../activities/intercom/workspace';
import { createIntercomClient, createStripeClient } from '../../lib/clients';
import { createDb, type Db } from '../../lib/db';
import { createLogger } from '../../lib/logger';
import { startFakeIntercom, signIntercomWebhook, type FakeIntercom } from '../../tools/testkit/fakes/fake-intercom';
import { startFakeStripeApi, type FakeStripeApi } from '../../tools/testkit/fakes/fake-stripe-api';
import { newMember, stripeEvent, type MemberIds } from '../../tools/testkit/stripe-events';
import { startHarness, testEnv, type Harness } from './harness';
import { waitFor } from './wait-for';

export const clientSecret = `intercom_secret_${randomBytes(12).toString('hex')}`;
export const TEAM_ID = '5017691';
export const LOGIN_URL = 'https://community.test/login';
export const CANCEL_PATH = 'https://community.test/account/membership';

export interface SupportStack {
  token: string;
  fake: FakeIntercom;
  stripeApi: FakeStripeApi;
  db: Db;
  h: Harness;
}

let stack: SupportStack;

/** Starts the stack before the file's tests and stops it after them. */
export function supportSuite(): SupportStack {
  const s = { token: `tok_support_${randomBytes(12).toString('hex')}` } as SupportStack;
  stack = s;
  beforeAll(async () => {
    s.fake = await startFakeIntercom({ token: s.token });
    s.stripeApi = await startFakeStripeApi();
    s.db = createDb(testEnv().databaseUrl);
    const log = createLogger({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent', name: 'support-test' });
    s.h = await startHarness({
      env: {
        INTERCOM_ACCESS_TOKEN: s.token,
        INTERCOM_BASE_URL: s.fake.baseUrl,
        INTERCOM_CLIENT_SECRET: clientSecret,
        INTERCOM_SUPPORT_TEAM_ID: TEAM_ID,
        APP_LOGIN_URL: LOGIN_URL,
        APP_CANCEL_PATH: CANCEL_PATH,
        SUPPORT_RATE_LIMIT_PER_MINUTE: '5',
        // A failed payment reaches past_due after a second and stays there for the whole file.
        DUNNING_GRACE_PERIOD: '1s',
        DUNNING_REMINDERS: '0s',
        DUNNING_CANCEL_AFTER: '1 hour',
      },
      stripe: createStripeClient({ secretKey: 'sk_test_support', apiBase: s.stripeApi.baseUrl }),
      // One workspace for support steps and the member workflow's own notices, as the worker builds it.
      intercom: createIntercomWorkspace({
        client: createIntercomClient({ token: s.token, baseUrl: s.fake.baseUrl, timeoutMs: 1500 }),
        db: s.db,
        log,
      }),
    });
  });
  afterAll(async () => {
    await s.h?.close();
    await s.db?.close();
    await s.fake?.close();
    await s.stripeApi?.close();
  });
  return s;
}

// ---- members ------------------------------------------------------------------------------------------------------

export interface Member extends MemberIds {
  appUserId: string;
  email: string;
  /** The member's Intercom contact (created first, as the app's Messenger would). */
  contactId: string;
  invoiceUrl: string;
}

export async function intercomApi<T>(method: string, apiPath: string, body?: unknown): Promise<T> {
  const res = await fetch(`${stack.fake.baseUrl}${apiPath}`, {
    method,
    headers: { authorization: `Bearer ${stack.token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

export async function deliver(...events: Array<ReturnType<typeof stripeEvent>>): Promise<void> {
  for (const e of events) expect((await stack.h.post(e)).status).toBe(200);
}

/** A paying member with a paid invoice in the projection; `pastDue` then fails a payment and waits for past_due. */
export async function member(opts: { pastDue?: boolean; invoice?: boolean } = {}): Promise<Member> {
  const ids = newMember();
  const appUserId = `app-${ids.customerId.slice(5)}`;
  const email = `${ids.customerId.toLowerCase()}@members.test`;
  const invoiceUrl = `https://invoice.stripe.com/i/acct_test/${ids.customerId}`;
  const contact = await intercomApi<{ id: string }>('POST', '/contacts', { external_id: appUserId, email });
  const m: Member = { ...ids, appUserId, email, contactId: contact.id, invoiceUrl };
  await deliver(
    stripeEvent('checkout.session.completed', m, {
      object: { client_reference_id: appUserId, payment_status: 'paid', customer_details: { email } },
    }),
    stripeEvent('customer.subscription.created', m, { object: { status: 'active' } }),
  );
  if (opts.invoice !== false)
    await deliver(stripeEvent('invoice.paid', m, { object: { hosted_invoice_url: invoiceUrl } }));
  await waitFor(
    async () => {
      const r = await stack.h.get(`/members/${m.customerId}`);
      return (
        r.status === 200 &&
        r.body.status === 'active' &&
        (opts.invoice === false || r.body.latestInvoiceUrl === invoiceUrl)
      );
    },
    { description: `member ${m.customerId} to be active with its invoice` },
  );
  if (opts.pastDue) {
    await deliver(stripeEvent('invoice.payment_failed', m, { object: { hosted_invoice_url: `${invoiceUrl}-open` } }));
    await stack.h.waitForStatus(m.customerId, 'past_due');
  }
  return m;
}

// ---- Intercom webhooks --------------------------------------------------------------------------------------------

export async function postIntercom(
  payload: string,
  signature: string | null = signIntercomWebhook(payload, clientSecret),
) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (signature !== null) headers['x-hub-signature'] = signature;
  const res = await fetch(`${stack.h.api.url}/webhooks/intercom`, { method: 'POST', headers, body: payload });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

/** The conversation as an Intercom client reads it: tag names, assignees, parts. */
export const conversationJson = (id: string) =>
  intercomApi<{
    tags: { tags: Array<{ name: string }> };
    team_assignee_id: number | null;
    admin_assignee_id: number | null;
    conversation_parts: {
      conversation_parts: Array<{ part_type: string; body: string | null; author: { type: string } }>;
    };
  }>('GET', `/conversations/${id}`);

// ---- API requests -------------------------------------------------------------------------------------------------

/** Each test is its own client (the limiter keys on the forwarded IP, trusted from loopback). */
export async function postSupport(body: unknown, clientIp: string) {
  const res = await stack.h.fetch('/support/requests', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': clientIp },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, any> };
}

export interface RequestRow {
  outcome: string;
  steps: Record<string, string>;
  route: string;
  reason: string;
}

/** Waits until the request's workflow recorded its outcome. */
export function finished(requestId: string): Promise<RequestRow> {
  return waitFor(
    async () => {
      const [row] = await stack.h.db.query<RequestRow>(
        'SELECT outcome, steps, route, reason FROM support_requests WHERE id = $1',
        [requestId],
      );
      return row && row.outcome !== 'pending' ? row : undefined;
    },
    { timeoutMs: 20_000, description: `support request ${requestId} to finish` },
  );
}

export const alertsFor = (conversationId: string) =>
  stack.h.db.query<{ kind: string; message: string }>('SELECT kind, message FROM alerts WHERE key = $1', [
    `support:conversation:${conversationId}`,
  ]);

// ---- tests --------------------------------------------------------------------------------------------------------
