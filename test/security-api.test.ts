/**
 * The attacker's view of the API (issue 10), over real sockets: who gets in without a credential, what strangers
 * learn from support intake and Intercom, the Messenger token, and what the logs never carry.
 */
import jwt from 'jsonwebtoken';
import { randomBytes } from 'node:crypto';
import { startApiServer, type ApiServer } from '../api/server';
import { createIntercomWorkspace } from '../activities/intercom/workspace';
import { createIntercomClient } from '../lib/clients';
import { createDb, type Db } from '../lib/db';
import { createLogger } from '../lib/logger';
import { startFakeIntercom, signIntercomWebhook, type FakeIntercom } from '../tools/testkit/fakes/fake-intercom';
import { newMember, stripeEvent } from '../tools/testkit/stripe-events';
import { readJson, startHarness, testEnv, type Harness } from './helpers/harness';
import { conversationUserCreated } from './helpers/intercom-notifications';
import { captureLogs } from './helpers/security';
import { waitFor } from './helpers/wait-for';

const token = `tok_sec_${randomBytes(12).toString('hex')}`;
const clientSecret = `intercom_secret_${randomBytes(12).toString('hex')}`;
const messengerSecret = `messenger_${randomBytes(16).toString('hex')}`;
const logs = captureLogs();
let fake: FakeIntercom;
let h: Harness;
let db: Db;

beforeAll(async () => {
  fake = await startFakeIntercom({ token });
  db = createDb(testEnv().databaseUrl);
  h = await startHarness({
    env: {
      LOG_LEVEL: 'info',
      INTERCOM_CLIENT_SECRET: clientSecret,
      INTERCOM_MESSENGER_SECRET: messengerSecret,
      INTERCOM_APP_ID: 'app_sec',
      APP_CANCEL_PATH: 'https://community.test/account/membership',
    },
    intercom: createIntercomWorkspace({
      client: createIntercomClient({ token, baseUrl: fake.baseUrl, timeoutMs: 1500 }),
      db,
      log: createLogger({ level: 'silent', name: 'security-test' }),
    }),
    logDestination: logs.stream,
  });
});

afterAll(async () => {
  await h?.close();
  await db?.close();
  await fake?.close();
});

/** A paying member with an invoice, an app user id and an email. */
async function member() {
  const ids = newMember();
  const m = {
    ...ids,
    appUserId: `app-${ids.customerId.slice(5)}`,
    email: `${ids.customerId.toLowerCase()}@members.test`,
  };
  for (const e of [
    stripeEvent('checkout.session.completed', m, {
      object: { client_reference_id: m.appUserId, payment_status: 'paid', customer_details: { email: m.email } },
    }),
    stripeEvent('customer.subscription.created', m, { object: { status: 'active' } }),
    stripeEvent('invoice.paid', m, {
      object: { customer_email: m.email, hosted_invoice_url: `https://invoice.stripe.com/i/${m.customerId}` },
    }),
  ])
    expect((await h.post(e)).status).toBe(200);
  await waitFor(
    async () => {
      const { body } = await h.get(`/members/${m.customerId}`);
      return body.latestInvoiceUrl && body.email === m.email && body.appUserId === m.appUserId;
    },
    { timeoutMs: 30_000, description: `member ${m.customerId} with its invoice, email and app user id` },
  );
  return m;
}

const call = (path: string, init: RequestInit = {}) => fetch(`${h.api.url}${path}`, init).then(readJson);
const supportBody = { method: 'POST', body: JSON.stringify({ body: 'How do I cancel?' }) };

// Every row has all three cells: jest takes a test function with more parameters than cells for a done-callback test.
const PROTECTED: Array<[string, string, RequestInit]> = [
  ['GET', '/members/cus_anyone', {}],
  ['GET', '/members/cus_anyone/access', {}],
  ['GET', '/members/cus_anyone/messenger', {}],
  ['POST', '/members/cus_anyone/billing-portal', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } }],
  ['POST', '/support/requests', { ...supportBody, headers: { 'content-type': 'application/json' } }],
  ['GET', '/metrics', {}],
  ['GET', '/some/route/nobody/protected', {}],
];

describe('API trust boundaries', () => {
  it.each(PROTECTED)('refuses %s %s without a credential (401)', async (_method, path, init) => {
    const r = await call(path, init);
    expect(r).toMatchObject({ status: 401, body: { error: 'unauthorized' } });
  });

  it.each(PROTECTED)('refuses %s %s with a wrong key (401)', async (_method, path, init) => {
    for (const authorization of [
      `Bearer ${h.apiKey}x`,
      `Bearer ${h.apiKey.slice(0, -1)}`,
      `Basic ${h.apiKey}`,
      'Bearer ',
    ]) {
      const headers = { ...(init.headers as Record<string, string> | undefined), authorization };
      expect((await call(path, { ...init, headers })).status).toBe(401);
    }
  });

  it('answers the public probes to strangers with the status only, and the checks to the app', async () => {
    expect(await call('/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    const ready = await waitFor(async () => {
      const r = await call('/readyz?include=worker');
      return r.status === 200 ? r.body : undefined;
    });
    expect(ready).toEqual({ status: 'ready' });
    expect((await h.get('/readyz')).body.checks).toMatchObject({ postgres: { ok: true }, worker: { ok: true } });
  });

  it('sends no CORS headers, so browsers cannot call the API cross-origin', async () => {
    const preflight = await fetch(`${h.api.url}/members/cus_anyone`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.test', 'access-control-request-method': 'GET' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const res = await h.fetch('/members/cus_anyone', { headers: { origin: 'https://evil.test' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('limits member routes per client (429), before the key is even checked', async () => {
    const api: ApiServer = await startApiServer(
      { ...h.config, security: { ...h.config.security, memberRateLimitPerMinute: 3 } },
      { db: h.db, temporal: h.temporal, log: h.log },
    );
    try {
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await fetch(`${api.url}/members/cus_anyone`)).status);
      expect(statuses).toEqual([401, 401, 401, 429]);
    } finally {
      await api.close();
    }
  });

  it("never puts a link, a portal session or the member's status in the answer to a request identified by email", async () => {
    const m = await member();
    for (const body of [
      'send me my receipt',
      'My card was declined, how do I update my card?',
      'Am I still a member?',
    ]) {
      const res = await h.fetch('/support/requests', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': '192.0.2.50' },
        body: JSON.stringify({ email: m.email, body }),
      });
      const r = await readJson(res);
      expect(r.status).toBe(202);
      expect(Object.keys(r.body).sort()).toEqual(['deliveredVia', 'intent', 'requestId', 'route']);
      expect(['member_channel', 'person']).toContain(r.body.deliveredVia);
      if (r.body.route !== 'human') expect(r.body.deliveredVia).toBe('member_channel');
      expect(JSON.stringify(r.body)).not.toMatch(/https?:|billing\.stripe|active|past_due/);
    }
  });

  it('sends a request from an email that is no member to a person, telling the caller nothing about it', async () => {
    const res = await h.fetch('/support/requests', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': '192.0.2.51' },
      body: JSON.stringify({
        email: `stranger-${randomBytes(4).toString('hex')}@example.test`,
        body: 'send me my receipt',
      }),
    });
    const answer = await readJson(res);
    expect(answer.body).toEqual({
      requestId: expect.any(String),
      intent: 'invoice_receipt',
      route: 'human',
      deliveredVia: 'person',
    });
  });

  it.each([
    ['a lead', { type: 'lead' }, true],
    ['a user whose identity was not verified (no external_id)', { type: 'user' }, false],
  ])(
    'gives an Intercom conversation from %s no billing reply, and attributes it to no member',
    async (_who, author, keepExternalId) => {
      const m = await member();
      const created = await fetch(`${fake.baseUrl}/contacts`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ role: 'lead', email: m.email }),
      });
      const contactId = ((await created.json()) as { id: string }).id;
      const conversationId = fake.createConversation({ contactId });
      const n = JSON.parse(
        conversationUserCreated(
          { contactId, appUserId: m.appUserId, email: m.email },
          conversationId,
          'My card was declined, how do I update my card? Send me my receipt',
        ),
      );
      n.data.item.source.author = { ...n.data.item.source.author, ...author };
      if (!keepExternalId) n.data.item.contacts.contacts[0].external_id = null;
      const payload = JSON.stringify(n);
      const res = await fetch(`${h.api.url}/webhooks/intercom`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hub-signature': signIntercomWebhook(payload, clientSecret) },
        body: payload,
      });
      const r = await readJson(res);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ route: 'human', deliveredVia: 'person' });
      const [row] = await h.db.query<{ customer_id: string | null; reply: string | null }>(
        'SELECT customer_id, reply FROM support_requests WHERE id = $1',
        [r.body.requestId],
      );
      expect(row).toEqual({ customer_id: null, reply: null });
      expect(fake.conversation(conversationId)?.parts.filter((p) => p.part_type === 'comment') ?? []).toEqual([]);
    },
  );

  it("issues a Messenger token that verifies with the secret, carries the member's ids and expires within an hour", async () => {
    const m = await member();
    // The projection is eventually consistent: wait (with a deadline) for the answer to name the member.
    const r = await waitFor(
      async () => {
        const res = await h.get(`/members/${m.customerId}/messenger`);
        return res.status !== 200 || res.body.userId === m.appUserId ? res : undefined;
      },
      { timeoutMs: 30_000, description: `the Messenger identity of ${m.customerId}` },
    );
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ appId: 'app_sec', userId: m.appUserId, email: m.email, token: expect.any(String) });
    const claims = jwt.verify(r.body.token, messengerSecret, { algorithms: ['HS256'] }) as jwt.JwtPayload;
    expect(claims).toMatchObject({ user_id: m.appUserId, email: m.email });
    expect((claims.exp as number) - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(3600);
    expect(() => jwt.verify(r.body.token, 'another-secret', { algorithms: ['HS256'] })).toThrow(jwt.JsonWebTokenError);
    expect(() =>
      jwt.verify(r.body.token, messengerSecret, { algorithms: ['HS256'], clockTimestamp: (claims.exp as number) + 1 }),
    ).toThrow(jwt.TokenExpiredError);
    expect((await h.get('/members/cus_nobody_here/messenger')).status).toBe(404);
  });

  it('never writes an API key, a webhook secret or a Messenger token into a log line', async () => {
    const m = await member();
    const issued = (await h.get(`/members/${m.customerId}/messenger`)).body.token as string;
    await call('/members/cus_anyone', { headers: { authorization: `Bearer ${h.apiKey}` } });
    await call('/members/cus_anyone', { headers: { authorization: `Bearer wrong-${h.apiKey}` } });
    expect(logs.lines.length).toBeGreaterThan(0);
    for (const secret of [h.apiKey, h.config.stripe.webhookSecret, messengerSecret, clientSecret, token, issued]) {
      expect(logs.lines.filter((l) => l.includes(secret))).toEqual([]);
    }
  });
});
