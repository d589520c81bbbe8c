/**
 * CRM sync against a local Intercom stand-in that the real intercom-client talks to over HTTP, driven end to end:
 * signed Stripe webhooks → API → member workflow → syncCrmContact activity → fake Intercom, on the real Temporal
 * dev server and PostgreSQL of the test run.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { CRM_ATTRIBUTES } from '../activities/crm-sync';
import { createIntercomWorkspace } from '../activities/intercom/workspace';
import type { CrmSection } from '../api/crm-section';
import { createIntercomClient } from '../lib/clients';
import { createDb, type Db } from '../lib/db';
import { createLogger } from '../lib/logger';
import { memberWorkflowId, membershipQuery } from '../workflows/messages';
import { startFakeIntercom, type FakeContact, type FakeIntercom } from '../tools/testkit/fakes/fake-intercom';
import { startHarness, testEnv, type Harness } from './helpers/harness';
import { newMember, stripeEvent, type MemberIds } from '../tools/testkit/stripe-events';
import { waitFor } from './helpers/wait-for';

const token = `tok_crm_${randomBytes(16).toString('hex')}`;
const logLines: string[] = [];
/** Lag (ms) as GET /members/:id showed it after each sync the tests waited for; printed with CRM_LAG_REPORT=1. */
const lags: Array<{ what: string; lagMs: number }> = [];

let fake: FakeIntercom;
let db: Db;
let h: Harness;

beforeAll(async () => {
  fake = await startFakeIntercom({ token });
  db = createDb(testEnv().databaseUrl);
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString('utf8'));
      done();
    },
  });
  const log = createLogger({ level: 'debug', name: 'crm-test', destination: sink });
  const client = createIntercomClient({ token, baseUrl: fake.baseUrl, timeoutMs: 1500 });
  h = await startHarness({
    env: { INTERCOM_ACCESS_TOKEN: token, INTERCOM_BASE_URL: fake.baseUrl },
    intercom: createIntercomWorkspace({ client, db, log }),
  });
});

afterAll(async () => {
  if (process.env['CRM_LAG_REPORT']) process.stderr.write(`CRM sync lag (ms): ${JSON.stringify(lags)}\n`);
  await h?.close();
  await db?.close();
  await fake?.close();
});

interface Member extends MemberIds {
  appUserId: string;
  email: string;
}

function member(): Member {
  const m = newMember();
  return { ...m, appUserId: `app-${m.customerId.slice(5)}`, email: `${m.customerId.toLowerCase()}@members.test` };
}

const events = {
  checkout: (m: Member) =>
    stripeEvent('checkout.session.completed', m, {
      object: { client_reference_id: m.appUserId, payment_status: 'paid', customer_details: { email: m.email } },
    }),
  active: (m: Member, object: Record<string, unknown> = {}) =>
    stripeEvent('customer.subscription.updated', m, { object: { status: 'active', ...object } }),
  created: (m: Member) => stripeEvent('customer.subscription.created', m, { object: { status: 'active' } }),
  paid: (m: Member) => stripeEvent('invoice.paid', m, { object: { customer_email: m.email } }),
  failed: (m: Member) => stripeEvent('invoice.payment_failed', m, { object: { customer_email: m.email } }),
  deleted: (m: Member) => stripeEvent('customer.subscription.deleted', m, { object: { status: 'canceled' } }),
};

async function deliver(...list: Array<ReturnType<typeof stripeEvent>>): Promise<void> {
  for (const e of list) expect((await h.post(e)).status).toBe(200);
}

async function crmOf(customerId: string): Promise<CrmSection['crm']> {
  const r = await h.get(`/members/${customerId}`);
  return r.status === 200 ? (r.body.crm as CrmSection['crm']) : null;
}

/** Waits until the member's contact satisfies `check` and the newest sync attempt succeeded. */
async function waitForContact(m: Member, check: (c: FakeContact) => boolean, what: string, timeoutMs = 15_000) {
  return waitFor(
    async () => {
      const c = fake.contactByExternalId(m.appUserId) ?? fake.contactByExternalId(m.customerId);
      const crm = await crmOf(m.customerId);
      return c && check(c) && crm?.lastOutcome === 'ok' ? { contact: c, crm } : undefined;
    },
    { timeoutMs, description: `the Intercom contact of ${m.customerId} to have ${what}` },
  ).then((found) => {
    if (found.crm.lagMs !== null) lags.push({ what, lagMs: found.crm.lagMs });
    return found;
  });
}

const hasStatus = (status: string) => (c: FakeContact) => c.custom_attributes['membership_status'] === status;

async function syncLog(customerId: string, operation: string) {
  return db.query<SyncLogRow & SyncLogRowTimes>(
    'SELECT * FROM crm_sync_log WHERE customer_id = $1 AND operation = $2 ORDER BY id',
    [customerId, operation],
  );
}

type SyncLogRow = { key: string; http_status: number | null; attempt: number; outcome: string; error: string | null };
type SyncLogRowTimes = { at: Date; request_id: string | null; duration_ms: number };

/** Statuses of the POST /contacts calls made for an external id. */
const contactCreates = (externalId: string): number[] =>
  fake.calls
    .filter((c) => c.method === 'POST' && c.path === '/contacts')
    .filter((c) => (c.body as { external_id?: string }).external_id === externalId)
    .map((c) => c.status);

/** Successful tag calls on the contact, counted by tag name (names read from the fake like any client would). */
async function tagCallCounts(method: 'POST' | 'DELETE', contactId: string): Promise<Record<string, number>> {
  const res = await fetch(`${fake.baseUrl}/tags`, { headers: { authorization: `Bearer ${token}` } });
  const names = new Map(
    ((await res.json()) as { data: Array<{ id: string; name: string }> }).data.map((t) => [t.id, t.name]),
  );
  const out: Record<string, number> = {};
  for (const c of fake.calls) {
    if (c.method !== method || c.status !== 200 || !c.path.startsWith(`/contacts/${contactId}/tags`)) continue;
    const id = method === 'POST' ? String((c.body as { id: string }).id) : (c.path.split('/').pop() as string);
    const name = names.get(id) ?? id;
    out[name] = (out[name] ?? 0) + 1;
  }
  return out;
}

describe('CRM sync to Intercom', () => {
  it('creates one contact with the membership attributes and tags it member_active after checkout', async () => {
    const m = member();
    await deliver(events.checkout(m), events.created(m), events.paid(m));
    await h.waitForStatus(m.customerId, 'active');
    const { contact, crm } = await waitForContact(
      m,
      (c) =>
        hasStatus('active')(c) &&
        c.custom_attributes['current_period_end'] !== null &&
        fake.tagsOf(c.id).includes('member_active'),
      'status active, a period end and member_active',
    );

    expect(contact).toMatchObject({ external_id: m.appUserId, email: m.email });
    expect(contact.custom_attributes).toEqual({
      membership_status: 'active',
      stripe_customer_id: m.customerId,
      subscription_id: m.subscriptionId,
      current_period_end: expect.any(Number),
      access: true,
    });
    expect(fake.tagsOf(contact.id)).toEqual(['member_active']);
    expect(contactCreates(m.appUserId)).toEqual([200]);
    const custom = fake.dataAttributes().filter((a) => a.custom);
    expect(custom.map((a) => a.name).sort()).toEqual(CRM_ATTRIBUTES.map((a) => a.name).sort());

    // The contact id is in the workflow state, the projection and the member's read model.
    expect(crm).toMatchObject({ contactId: contact.id, lastOutcome: 'ok', syncedAt: expect.any(String) });
    const strong = await h.temporal.workflow.getHandle(memberWorkflowId(m.customerId)).query(membershipQuery);
    expect(strong.crm.contactId).toBe(contact.id);
    await waitFor(async () => {
      const [row] = await db.query<{ crm_contact_id: string | null }>(
        'SELECT crm_contact_id FROM memberships WHERE customer_id = $1',
        [m.customerId],
      );
      return row?.crm_contact_id === contact.id;
    });

    // Every call of the sync is in the log with Intercom's request id.
    const created = await syncLog(m.customerId, 'contacts.create');
    const requestId = expect.stringMatching(/^[0-9a-f]{20}$/);
    expect(created).toEqual([
      expect.objectContaining({ http_status: 200, outcome: 'ok', attempt: 1, request_id: requestId }),
    ]);
    expect(crm?.lagMs).toEqual(expect.any(Number));
    expect(crm?.lagMs).toBeLessThan(2000);
  });

  it('keeps one contact and one tag call per transition when every event is delivered three times', async () => {
    const m = member();
    const list = [events.checkout(m), events.failed(m), events.paid(m)];
    for (const e of list) for (let i = 0; i < 3; i++) await deliver(e);
    const { contact } = await waitForContact(
      m,
      (c) => hasStatus('active')(c) && fake.tagsOf(c.id).includes('payment_recovered'),
      'recovered to active',
    );
    // All syncs of the member are done: one per transition with tags, plus attribute-only ones.
    await waitFor(async () => {
      const [row] = await db.query<{ n: string }>(`SELECT count(*) AS n FROM crm_tag_ops WHERE key = $1`, [
        `${m.customerId}:t3`,
      ]);
      return Number(row?.n) === 3 ? true : undefined;
    });

    expect(contactCreates(m.appUserId)).toEqual([200]);
    // t1 adds member_active, t2 payment_failed, t3 payment_recovered and member_active again.
    expect(await tagCallCounts('POST', contact.id)).toEqual({
      member_active: 2,
      payment_failed: 1,
      payment_recovered: 1,
    });
    expect(await tagCallCounts('DELETE', contact.id)).toEqual({ payment_failed: 1 });
    const ops = await db.query<{ key: string; tag: string; op: string }>(
      `SELECT key, tag, op FROM crm_tag_ops WHERE customer_id = $1 AND called ORDER BY key, op, tag`,
      [m.customerId],
    );
    expect(ops.map((o) => `${o.key.split(':')[1]} ${o.op} ${o.tag}`)).toEqual([
      't1 add member_active',
      't2 add payment_failed',
      't3 add member_active',
      't3 add payment_recovered',
      't3 remove payment_failed',
    ]);
  });

  it('waits out a 429 for the Retry-After time and then tags the member', async () => {
    const m = member();
    fake.fail({ status: 429, retryAfterSeconds: 1, match: { method: 'POST', path: /^\/contacts\/[^/]+\/tags$/ } });
    await deliver(events.active(m));
    const { contact, crm } = await waitForContact(
      m,
      (c) => fake.tagsOf(c.id).includes('member_active'),
      'member_active',
    );

    const tagging = await syncLog(m.customerId, 'tags.tagContact');
    expect(tagging).toEqual([
      expect.objectContaining({
        http_status: 429,
        outcome: 'retry',
        attempt: 1,
        error: expect.stringContaining('429'),
      }),
      expect.objectContaining({ http_status: 200, outcome: 'ok', attempt: 2 }),
    ]);
    const [first, second] = tagging;
    // The server's Retry-After (1 s), not the policy's 500 ms first interval.
    expect((second?.at.getTime() ?? 0) - (first?.at.getTime() ?? 0)).toBeGreaterThanOrEqual(950);
    expect(await tagCallCounts('POST', contact.id)).toEqual({ member_active: 1 });
    // The lag counts the wait.
    expect(crm.lagMs).toBeGreaterThanOrEqual(1000);
  });

  it('retries two 500s and then creates the contact once', async () => {
    const m = member();
    fake.fail({ status: 500, times: 2, match: { method: 'POST', path: /^\/contacts$/ } });
    await deliver(events.checkout(m));
    const { crm } = await waitForContact(m, hasStatus('active'), 'status active');

    expect((await syncLog(m.customerId, 'contacts.create')).map((r) => [r.http_status, r.outcome, r.attempt])).toEqual([
      [500, 'retry', 1],
      [500, 'retry', 2],
      [200, 'ok', 3],
    ]);
    expect(contactCreates(m.appUserId)).toEqual([500, 500, 200]);
    expect(crm.lagMs).toBeGreaterThanOrEqual(1500);
  });

  it('retries a call that times out', async () => {
    const m = member();
    await deliver(events.checkout(m));
    const { contact } = await waitForContact(m, hasStatus('active'), 'status active');
    const before = (await syncLog(m.customerId, 'contacts.update')).length;
    // The update takes effect but its answer comes after the client's 1.5 s timeout: the retry must redo it.
    fake.delay(2500, { match: { method: 'PUT', path: new RegExp(`^/contacts/${contact.id}$`) } });
    await deliver(events.active(m, { cancel_at_period_end: true }));
    const updates = await waitFor(
      async () => {
        const rows = (await syncLog(m.customerId, 'contacts.update')).slice(before);
        return rows.length >= 2 && rows.at(-1)?.outcome === 'ok' ? rows : undefined;
      },
      { description: 'a timed-out update and its successful retry' },
    );
    expect(updates[0]).toMatchObject({
      http_status: null,
      outcome: 'retry',
      attempt: 1,
      error: expect.stringMatching(/timeout/i),
    });
    expect(updates[0]?.duration_ms).toBeGreaterThanOrEqual(1400);
    expect(updates.at(-1)).toMatchObject({ http_status: 200, outcome: 'ok', attempt: 2 });
  });

  it('raises one alert for a 401, does not retry it, and leaves the membership alone', async () => {
    const m = member();
    fake.fail({ status: 401, times: 1000, match: { path: /^\/contacts/ } });
    try {
      await deliver(events.active(m));
      await h.waitForStatus(m.customerId, 'active');
      // Both syncs of the transition (tags, then attributes) ran into the 401.
      const refused = await waitFor(async () => {
        const rows = await db.query<{ key: string; http_status: number; attempt: number; outcome: string }>(
          'SELECT key, http_status, attempt, outcome FROM crm_sync_log WHERE customer_id = $1 ORDER BY id',
          [m.customerId],
        );
        return rows.length >= 2 ? rows : undefined;
      });
      expect(refused.map((r) => [r.http_status, r.outcome, r.attempt])).toEqual([
        [401, 'failed', 1],
        [401, 'failed', 1],
      ]);
      const crm = await waitFor(async () => {
        const c = await crmOf(m.customerId);
        return c?.lastOutcome === 'failed' ? c : undefined;
      });
      expect(crm).toMatchObject({ contactId: null, syncedAt: null });
    } finally {
      fake.clearFaults();
    }
    const alerts = await db.query<{ key: string; kind: string; message: string }>(
      'SELECT key, kind, message FROM alerts WHERE customer_id = $1',
      [m.customerId],
    );
    expect(alerts).toEqual([
      {
        key: `crm:${m.customerId}:401:contacts.findByExternalId`,
        kind: 'crm_sync_failed',
        message: expect.stringContaining('INTERCOM_ACCESS_TOKEN'),
      },
    ]);
    expect(logLines.some((l) => l.includes('"level":50') && l.includes(m.customerId))).toBe(true);
    expect((await h.get(`/members/${m.customerId}/access`)).body).toMatchObject({ status: 'active', allowed: true });
    // The workflow goes on: a later event is applied as usual.
    await deliver(events.deleted(m));
    await h.waitForStatus(m.customerId, 'canceled');
    const history = await h.temporal.workflow.getHandle(memberWorkflowId(m.customerId)).fetchHistory();
    const text = JSON.stringify(history);
    expect(text).toContain('HTTP 401');
    expect(text).not.toContain(token);
  });

  it('keeps state and access working while Intercom is down, and catches up when it is back', async () => {
    const m = member();
    await deliver(events.checkout(m));
    await waitForContact(m, hasStatus('active'), 'status active');
    const before = (await syncLog(m.customerId, 'contacts.update')).length;

    await fake.down();
    try {
      await deliver(events.failed(m));
      await h.waitForStatus(m.customerId, 'grace_period');
      expect((await h.get(`/members/${m.appUserId}/access`)).body).toMatchObject({
        status: 'grace_period',
        allowed: true,
      });
      await deliver(events.deleted(m));
      await h.waitForStatus(m.customerId, 'canceled');
      expect((await h.get(`/members/${m.appUserId}/access`)).body).toMatchObject({
        status: 'canceled',
        allowed: false,
      });
      // Intercom stays down for several attempts of the sync; the member's CRM status says so.
      await waitFor(async () => {
        const rows = (await syncLog(m.customerId, 'contacts.update')).slice(before);
        return rows.filter((r) => r.http_status === 503 && r.outcome === 'retry').length >= 3 ? true : undefined;
      });
      expect((await crmOf(m.customerId))?.lastOutcome).toBe('retry');
      expect((await h.get(`/members/${m.customerId}/access`)).body).toMatchObject({ allowed: false });
    } finally {
      await fake.up();
    }

    const { contact, crm } = await waitForContact(
      m,
      // Tags are applied one call at a time: wait for the whole set, not the first tag of the step.
      (c) => hasStatus('canceled')(c) && fake.tagsOf(c.id).sort().join() === 'cancelled,payment_failed',
      'caught up to canceled',
      30_000,
    );
    expect(contact.custom_attributes).toMatchObject({ membership_status: 'canceled', access: false });
    expect(fake.tagsOf(contact.id).sort()).toEqual(['cancelled', 'payment_failed']);
    expect(crm.lagMs).toEqual(expect.any(Number));
  });

  it('removes payment_failed once the member has paid again, and tells the member through Intercom', async () => {
    const m = member();
    await deliver(events.checkout(m));
    await waitForContact(m, hasStatus('active'), 'status active');
    await deliver(events.failed(m));
    await waitForContact(m, (c) => fake.tagsOf(c.id).includes('payment_failed'), 'payment_failed');
    await deliver(events.paid(m));
    const { contact, crm } = await waitForContact(
      m,
      (c) => hasStatus('active')(c) && !fake.tagsOf(c.id).includes('payment_failed'),
      'payment_failed removed',
    );
    expect(fake.tagsOf(contact.id).sort()).toEqual(['member_active', 'payment_recovered']);
    expect(crm.lagMs).toBeLessThan(2000);

    const messages = await waitFor(() => {
      const sent = fake.messagesTo(contact.id);
      return sent.length >= 2 ? sent : undefined;
    });
    expect(messages.map((x) => [x.message_type, x.fromAdminId])).toEqual([
      ['email', fake.adminId],
      ['email', fake.adminId],
    ]);
  });

  it('sends the bearer token on every call and never writes it to logs, the sync log or alerts', async () => {
    const m = member();
    const from = fake.calls.length;
    // A failed call too: error paths are where a token would leak.
    fake.fail({ status: 503, match: { method: 'POST', path: /^\/contacts\/[^/]+\/tags$/ } });
    await deliver(events.checkout(m), events.failed(m));
    const { contact } = await waitForContact(m, (c) => fake.tagsOf(c.id).includes('payment_failed'), 'payment_failed');
    await waitFor(() => fake.messagesTo(contact.id).length === 1);
    // The fake applies a tag before its answer reaches the sync log: wait for the log row too.
    const tagging = await waitFor(async () => {
      const rows = await syncLog(m.customerId, 'tags.tagContact');
      return rows.length >= 3 ? rows : undefined;
    });

    // The notice and the sync raced for the contact: still one, under the app user id.
    expect([contactCreates(m.appUserId), contactCreates(m.customerId)]).toEqual([[200], []]);
    const calls = fake.calls.slice(from);
    expect(calls.map((c) => c.authorization)).toEqual(calls.map(() => `Bearer ${token}`));
    expect(calls.some((c) => c.status === 503)).toBe(true);
    expect(logLines.some((l) => l.includes(m.customerId))).toBe(true);
    expect(logLines.join('\n')).not.toContain(token);
    const leaks = await db.query(
      `SELECT 'crm_sync_log' AS t FROM crm_sync_log l WHERE l::text LIKE '%' || $1 || '%'
       UNION ALL SELECT 'alerts' FROM alerts a WHERE a::text LIKE '%' || $1 || '%'
       UNION ALL SELECT 'crm_sync_state' FROM crm_sync_state s WHERE s::text LIKE '%' || $1 || '%'`,
      [token],
    );
    expect(leaks).toEqual([]);
    expect(tagging.map((r) => r.http_status)).toEqual([503, 200, 200]);
  });
});
