/**
 * Support automation end to end: Intercom webhooks and POST /support/requests → intake (classify, compose the reply,
 * record) → supportRequestWorkflow → the fake Intercom (replies, tags, assignments) and the member's workflow, on the
 * real Temporal dev server and PostgreSQL, with the real intercom-client and stripe clients talking to local fakes.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createIntercomIntegration } from '../activities/intercom';
import { readIntercomNotification, verifyHubSignature } from '../api/routes/intercom-webhook';
import type { SupportHistoryEntry } from '../api/support-section';
import { createIntercomClient, createStripeClient } from '../lib/clients';
import { createDb, type Db } from '../lib/db';
import { createLogger } from '../lib/logger';
import { startFakeIntercom, signIntercomWebhook, type FakeIntercom } from '../tools/testkit/fakes/fake-intercom';
import { startFakeStripeApi, type FakeStripeApi } from '../tools/testkit/fakes/fake-stripe-api';
import { startHarness, testEnv, type Harness } from './helpers/harness';
import { conversationUserCreated, conversationUserReplied, INTERCOM_FIXTURES } from './helpers/intercom-notifications';
import { newMember, stripeEvent, type MemberIds } from '../tools/testkit/stripe-events';
import { waitFor } from './helpers/wait-for';

const token = `tok_support_${randomBytes(12).toString('hex')}`;
const clientSecret = `intercom_secret_${randomBytes(12).toString('hex')}`;
const TEAM_ID = '5017691';
const LOGIN_URL = 'https://community.test/login';
const CANCEL_PATH = 'https://community.test/account/membership';

let fake: FakeIntercom;
let stripeApi: FakeStripeApi;
let db: Db;
let h: Harness;

beforeAll(async () => {
  fake = await startFakeIntercom({ token });
  stripeApi = await startFakeStripeApi();
  db = createDb(testEnv().databaseUrl);
  const log = createLogger({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent', name: 'support-test' });
  h = await startHarness({
    env: {
      INTERCOM_ACCESS_TOKEN: token,
      INTERCOM_BASE_URL: fake.baseUrl,
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
    stripe: createStripeClient({ secretKey: 'sk_test_support', apiBase: stripeApi.baseUrl }),
    intercom: createIntercomClient({ token, baseUrl: fake.baseUrl, timeoutMs: 1500 }),
    // The member workflow's own notices go through the CRM issue's Intercom messenger, to the same workspace.
    messenger: createIntercomIntegration({ token, baseUrl: fake.baseUrl, db, log, timeoutMs: 1500 }).messenger,
  });
});

afterAll(async () => {
  await h?.close();
  await db?.close();
  await fake?.close();
  await stripeApi?.close();
});

// ---- members ------------------------------------------------------------------------------------------------------

interface Member extends MemberIds {
  appUserId: string;
  email: string;
  /** The member's Intercom contact (created first, as the app's Messenger would). */
  contactId: string;
  invoiceUrl: string;
}

async function intercomApi<T>(method: string, apiPath: string, body?: unknown): Promise<T> {
  const res = await fetch(`${fake.baseUrl}${apiPath}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

async function deliver(...events: Array<ReturnType<typeof stripeEvent>>): Promise<void> {
  for (const e of events) expect((await h.post(e)).status).toBe(200);
}

/** A paying member with a paid invoice in the projection; `pastDue` then fails a payment and waits for past_due. */
async function member(opts: { pastDue?: boolean; invoice?: boolean } = {}): Promise<Member> {
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
      const r = await h.get(`/members/${m.customerId}`);
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
    await h.waitForStatus(m.customerId, 'past_due');
  }
  return m;
}

// ---- Intercom webhooks --------------------------------------------------------------------------------------------

async function postIntercom(payload: string, signature: string | null = signIntercomWebhook(payload, clientSecret)) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (signature !== null) headers['x-hub-signature'] = signature;
  const res = await fetch(`${h.api.url}/webhooks/intercom`, { method: 'POST', headers, body: payload });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

/** The conversation as an Intercom client reads it: tag names, assignees, parts. */
const conversationJson = (id: string) =>
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
async function postSupport(body: unknown, clientIp: string) {
  const res = await h.fetch('/support/requests', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': clientIp },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, any> };
}

interface RequestRow {
  outcome: string;
  steps: Record<string, string>;
  route: string;
  reason: string;
}

/** Waits until the request's workflow recorded its outcome. */
function finished(requestId: string): Promise<RequestRow> {
  return waitFor(
    async () => {
      const [row] = await h.db.query<RequestRow>(
        'SELECT outcome, steps, route, reason FROM support_requests WHERE id = $1',
        [requestId],
      );
      return row && row.outcome !== 'pending' ? row : undefined;
    },
    { timeoutMs: 20_000, description: `support request ${requestId} to finish` },
  );
}

const alertsFor = (conversationId: string) =>
  h.db.query<{ kind: string; message: string }>('SELECT kind, message FROM alerts WHERE key = $1', [
    `support:conversation:${conversationId}`,
  ]);

// ---- tests --------------------------------------------------------------------------------------------------------

describe('support automation', () => {
  it('answers a receipt request in the Intercom conversation with the hosted invoice URL', async () => {
    const m = await member();
    const conversationId = fake.createConversation({ contactId: m.contactId });
    const r = await postIntercom(
      conversationUserCreated(m, conversationId, 'Hi, can you send me the receipt for my last payment?'),
    );

    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      intent: 'invoice_receipt',
      route: 'auto_reply',
      deliveredVia: 'intercom_conversation',
      duplicate: false,
    });
    // The link goes into the member's conversation (asserted below), never into the HTTP answer.
    expect(r.body).not.toHaveProperty('reply');
    expect(await finished(r.body['requestId'])).toMatchObject({ outcome: 'replied', steps: { reply: 'sent' } });
    const conversation = await conversationJson(conversationId);
    const replies = conversation.conversation_parts.conversation_parts.filter((p) => p.author.type === 'admin');
    expect(replies).toHaveLength(1);
    expect(replies[0]).toMatchObject({ part_type: 'comment' });
    expect(replies[0]?.body).toContain(m.invoiceUrl);
    expect(conversation.tags.tags).toEqual([]);
    expect(conversation.team_assignee_id).toBeNull();
  });

  it('routes a declined card from a member in past_due to the billing flow, with the card-update link and a notice from the member workflow', async () => {
    const m = await member({ pastDue: true });
    const conversationId = fake.createConversation({ contactId: m.contactId });
    const r = await postIntercom(
      conversationUserCreated(m, conversationId, 'My card was declined, how do I update my card?'),
    );

    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ intent: 'billing', route: 'billing_flow', deliveredVia: 'intercom_conversation' });
    expect(JSON.stringify(r.body)).not.toMatch(/billing\.stripe\.com/);
    const done = await finished(r.body['requestId']);
    expect(done).toMatchObject({
      outcome: 'replied',
      steps: { reply: 'sent', handoff: `signaled member-${m.customerId}` },
    });
    // The member workflow sends one notice now, keyed by the request, with the open invoice and a card-update link.
    const key = `${m.customerId}:dunning:1:support:${r.body['requestId']}`;
    await waitFor(
      async () =>
        (await h.db.query(`SELECT 1 FROM member_notices WHERE key = $1 AND status = 'sent'`, [key])).length === 1,
      { description: `notice ${key} to be sent` },
    );
    const notice = fake.messagesTo(m.contactId).find((msg) => /still open/.test(msg.subject ?? ''));
    expect(notice?.body).toContain(`${m.invoiceUrl}-open`);
    expect(notice?.body).toMatch(/Update your card here: https:\/\/billing\.stripe\.com\//);
    const replies = (await conversationJson(conversationId)).conversation_parts.conversation_parts.filter(
      (p) => p.author.type === 'admin',
    );
    expect(replies.map((p) => p.body)).toEqual([
      expect.stringMatching(/https:\/\/billing\.stripe\.com\/p\/session\/test_\w+/),
    ]);
  });

  it("answers a login problem with the sign-in instructions and the member's actual access state", async () => {
    const m = await member({ pastDue: true });
    const r = await postSupport(
      { memberId: m.appUserId, body: "I can't log in, the magic link never arrives" },
      '198.51.100.10',
    );

    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ intent: 'account_access', route: 'auto_reply', deliveredVia: 'member_channel' });
    expect(r.body).not.toHaveProperty('reply');
    // No conversation: the reply reaches the member through the messenger (an Intercom message to the contact).
    expect(await finished(r.body['requestId'])).toMatchObject({
      outcome: 'replied',
      steps: { reply: 'sent (intercom)' },
    });
    const sent = fake.messagesTo(m.contactId).filter((msg) => msg.body.includes(LOGIN_URL));
    expect(sent).toHaveLength(1);
    expect(sent[0]?.body).toContain('Your membership is on hold because a payment did not go through.');
    expect(sent[0]?.body).toContain('Access comes back as soon as the payment goes through');
  });

  it('hands an unknown question to a person: tagged, assigned to the team inbox, one alert even when the webhook is delivered twice', async () => {
    const m = await member();
    const conversationId = fake.createConversation({ contactId: m.contactId });
    const payload = conversationUserCreated(m, conversationId, "Do you have a recording of last week's workshop?");
    const first = await postIntercom(payload);
    const again = await postIntercom(payload);

    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ intent: 'other', route: 'human', duplicate: false });
    expect(first.body['reply']).toBeUndefined();
    expect(again.body).toMatchObject({ requestId: first.body['requestId'], route: 'human', duplicate: true });
    const done = await finished(first.body['requestId']);
    expect(done).toMatchObject({
      outcome: 'escalated',
      steps: {
        tag: 'tagged support_other',
        assign: `assigned to team ${TEAM_ID}`,
        alert: `raised support:conversation:${conversationId}`,
      },
    });
    const conversation = await conversationJson(conversationId);
    expect(conversation.tags.tags.map((t) => t.name)).toEqual(['support_other']);
    expect(conversation.team_assignee_id).toBe(Number(TEAM_ID));
    expect(conversation.conversation_parts.conversation_parts.filter((p) => p.part_type === 'comment')).toHaveLength(0);
    expect(fake.countCalls('POST', new RegExp(`^/conversations/${conversationId}/parts$`))).toBe(1);
    const alerts = await alertsFor(conversationId);
    expect(alerts).toEqual([{ kind: 'support_needs_human', message: expect.stringContaining('other') }]);
    // The alert says which rules decided, never what the member wrote.
    expect(alerts[0]?.message).not.toContain("last week's");
    const requests = await h.db.query('SELECT 1 FROM support_requests WHERE conversation_id = $1', [conversationId]);
    expect(requests).toHaveLength(1);
  });

  it('retries the reply while Intercom fails, and posts it once', async () => {
    const m = await member();
    const conversationId = fake.createConversation({ contactId: m.contactId });
    fake.fail({
      status: 503,
      times: 2,
      match: { method: 'POST', path: new RegExp(`^/conversations/${conversationId}/reply$`) },
    });
    const r = await postIntercom(
      conversationUserCreated(m, conversationId, 'Could you send me the invoice for March?'),
    );
    expect(r.body).toMatchObject({ intent: 'invoice_receipt', route: 'auto_reply' });

    expect(await finished(r.body['requestId'])).toMatchObject({ outcome: 'replied', steps: { reply: 'sent' } });
    const log = await h.db.query<{ http_status: number; outcome: string }>(
      `SELECT http_status, outcome FROM crm_sync_log WHERE key = $1 AND operation = 'conversations.reply' ORDER BY id`,
      [`support:${r.body['requestId']}`],
    );
    expect(log).toEqual([
      { http_status: 503, outcome: 'retry' },
      { http_status: 503, outcome: 'retry' },
      { http_status: 200, outcome: 'ok' },
    ]);
    const replies = (await conversationJson(conversationId)).conversation_parts.conversation_parts.filter(
      (p) => p.author.type === 'admin',
    );
    expect(replies).toHaveLength(1);
  });

  it('hands a member who writes again in the same conversation after an automatic reply to a person', async () => {
    const m = await member();
    const conversationId = fake.createConversation({ contactId: m.contactId });
    const first = 'Where can I find my invoice?';
    const auto = await postIntercom(conversationUserCreated(m, conversationId, first));
    expect(auto.body).toMatchObject({ intent: 'invoice_receipt', route: 'auto_reply' });
    await finished(auto.body['requestId']);

    const followUp = await postIntercom(
      conversationUserReplied(
        m,
        conversationId,
        { first, parts: fake.conversation(conversationId)?.parts ?? [] },
        'Thanks, but I need our company name on the invoice',
      ),
    );
    expect(followUp.status).toBe(200);
    expect(followUp.body).toMatchObject({ intent: 'invoice_receipt', route: 'human', duplicate: false });
    const done = await finished(followUp.body['requestId']);
    expect(done.reason).toMatch(/wrote again after 1 automatic reply/);
    expect(done).toMatchObject({ outcome: 'escalated', steps: { tag: 'tagged support_invoice_receipt' } });
    const conversation = await conversationJson(conversationId);
    expect(conversation.team_assignee_id).toBe(Number(TEAM_ID));
    expect(
      conversation.conversation_parts.conversation_parts.filter(
        (p) => p.author.type === 'admin' && p.part_type === 'comment',
      ),
    ).toHaveLength(1);
    expect(await alertsFor(conversationId)).toHaveLength(1);
  });

  it('shows the support history, with the rules that decided, in GET /members/:id', async () => {
    const m = await member({ invoice: false });
    stripeApi.seedInvoice({ id: `in_${m.customerId}`, customer: m.customerId, hosted_invoice_url: m.invoiceUrl });
    // No invoice in the projection: the reply takes the newest one from the Stripe API.
    const receipt = await postSupport(
      { email: m.email, subject: 'Receipt', body: 'Please send me my receipt' },
      '198.51.100.20',
    );
    expect(receipt.body).toMatchObject({ intent: 'invoice_receipt', route: 'auto_reply', deliveredVia: 'member_channel' });
    expect(receipt.body).not.toHaveProperty('reply');
    await finished(receipt.body['requestId']);
    // Identified by email only: the link went to the member's own contact, not to whoever asked.
    expect(fake.messagesTo(m.contactId).filter((msg) => msg.body.includes(m.invoiceUrl))).toHaveLength(1);
    const cancel = await postSupport(
      { memberId: m.customerId, body: 'How do I cancel my membership?' },
      '198.51.100.20',
    );
    expect(cancel.body).toMatchObject({ intent: 'cancellation', route: 'human' });
    await finished(cancel.body['requestId']);

    const support = (await h.get(`/members/${m.customerId}`)).body.support as SupportHistoryEntry[];
    expect(support).toEqual([
      expect.objectContaining({
        requestId: receipt.body['requestId'],
        source: 'api',
        intent: 'invoice_receipt',
        route: 'auto_reply',
        matched: expect.arrayContaining([{ intent: 'invoice_receipt', rule: 'receipt*', weight: 3 }]),
        reply: expect.stringContaining(m.invoiceUrl),
        outcome: 'replied',
      }),
      expect.objectContaining({
        requestId: cancel.body['requestId'],
        intent: 'cancellation',
        route: 'human',
        reason: expect.stringMatching(/wrote again after 1 automatic reply/),
        reply: null,
        outcome: 'escalated',
      }),
    ]);
    expect(support[0]?.at).toEqual(expect.any(String));
  });

  it('refuses a webhook without a valid X-Hub-Signature (401), and acknowledges topics it does not handle', async () => {
    const m = await member();
    const conversationId = fake.createConversation({ contactId: m.contactId });
    const payload = conversationUserCreated(m, conversationId, 'How do I cancel?');

    expect((await postIntercom(payload, signIntercomWebhook(payload, 'not_the_secret'))).status).toBe(401);
    expect((await postIntercom(payload, null)).status).toBe(401);
    expect((await postIntercom(`${payload} `, signIntercomWebhook(payload, clientSecret))).status).toBe(401);
    expect(
      await h.db.query('SELECT 1 FROM support_requests WHERE conversation_id = $1', [conversationId]),
    ).toHaveLength(0);

    const other = JSON.stringify({ ...JSON.parse(payload), topic: 'contact.user.created' });
    expect(await postIntercom(other)).toEqual({
      status: 200,
      body: { received: true, ignored: 'topic contact.user.created is not handled' },
    });
  });

  it('verifies and reads the notification exactly as Intercom documents and signs it', () => {
    const raw = readFileSync(path.join(INTERCOM_FIXTURES, 'conversation.user.created.json'));
    const signature = readFileSync(
      path.join(INTERCOM_FIXTURES, 'conversation.user.created.X-Hub-Signature.txt'),
      'utf8',
    ).trim();
    expect(verifyHubSignature(raw, signature, 'test_client_secret')).toBe(true);
    expect(verifyHubSignature(raw, signature, 'another_secret')).toBe(false);
    // The author of the documented example is an admin: their address is not taken for the member's.
    expect(readIntercomNotification(JSON.parse(raw.toString('utf8')))).toEqual({
      kind: 'message',
      message: {
        source: 'intercom',
        dedupeKey: 'intercom:525:403918350',
        conversationId: '525',
        contactId: '6762f15b1bb69f9f2193bbbc',
        externalId: '70',
        body: 'this is the message body',
      },
    });
  });

  it.each([
    ['no body', {}, 'body', 'is required', '198.51.100.31'],
    ['a blank body', { body: '   ' }, 'body', 'is required', '198.51.100.32'],
    [
      'a body over 10,000 characters',
      { body: 'x'.repeat(10_001) },
      'body',
      'is longer than 10,000 characters',
      '198.51.100.33',
    ],
    [
      'a malformed email',
      { body: 'Where is my invoice?', email: 'not-an-email' },
      'email',
      'is not a valid email address',
      '198.51.100.34',
    ],
    [
      'a malformed member id',
      { body: 'Where is my invoice?', memberId: 'no spaces' },
      'memberId',
      'is not a valid member id',
      '198.51.100.35',
    ],
  ])('refuses a request with %s with 400 naming the field', async (_case, body, field, message, clientIp) => {
    const r = await postSupport(body, clientIp);
    expect(r).toMatchObject({ status: 400, body: { error: 'invalid_request', field, message } });
  });

  it('limits each client to SUPPORT_RATE_LIMIT_PER_MINUTE requests a minute (429), without slowing other clients', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await postSupport({}, '203.0.113.7')).status);
    const limited = await postSupport({ body: 'How do I cancel my membership?' }, '203.0.113.7');
    expect(statuses).toEqual([400, 400, 400, 400, 400]);
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ error: 'rate_limited' });
    expect(limited.headers.get('ratelimit-policy')).toMatch(/q=5; w=60/);
    expect(limited.headers.get('ratelimit')).toMatch(/r=0/);

    // Another client, an unknown sender: answered in the HTTP response (there is no member to send it to).
    const other = await postSupport({ body: 'How do I cancel my membership?' }, '203.0.113.8');
    expect(other.status).toBe(202);
    expect(other.body).toMatchObject({ intent: 'cancellation', route: 'auto_reply', deliveredVia: 'response' });
    expect(other.body['reply']).toContain(CANCEL_PATH);
    expect(await finished(other.body['requestId'])).toMatchObject({
      outcome: 'answered_in_response',
      steps: { reply: 'in_response_only' },
    });
  });
});
