/**
 * The CRM sync stack of a test file: a local Intercom stand-in, one Intercom workspace over the real intercom-client,
 * and a harness with INTERCOM_ACCESS_TOKEN set, plus the helpers that read what the sync did.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { createIntercomWorkspace } from '../../activities/intercom/workspace';
import type { CrmSection } from '../../api/crm-section';
import { createIntercomClient } from '../../lib/clients';
import { createDb, type Db } from '../../lib/db';
import { createLogger } from '../../lib/logger';
import { startFakeIntercom, type FakeContact, type FakeIntercom } from '../../tools/testkit/fakes/fake-intercom';
import { newMember, stripeEvent, type MemberIds } from '../../tools/testkit/stripe-events';
import { startHarness, testEnv, type Harness } from './harness';
import { waitFor } from './wait-for';

export interface CrmSyncStack {
  token: string;
  fake: FakeIntercom;
  db: Db;
  h: Harness;
  /** Every log line of the worker and API, as written (JSON). */
  logLines: string[];
  /** Lag (ms) as GET /members/:id showed it after each sync the tests waited for; printed with CRM_LAG_REPORT=1. */
  lags: Array<{ what: string; lagMs: number }>;
}

let stack: CrmSyncStack;

/** Starts the stack before the file's tests and stops it after them. */
export function crmSyncSuite(): CrmSyncStack {
  const s = { token: `tok_crm_${randomBytes(16).toString('hex')}`, logLines: [], lags: [] } as unknown as CrmSyncStack;
  stack = s;
  beforeAll(async () => {
    s.fake = await startFakeIntercom({ token: s.token });
    s.db = createDb(testEnv().databaseUrl);
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        s.logLines.push(chunk.toString('utf8'));
        done();
      },
    });
    const log = createLogger({ level: 'debug', name: 'crm-test', destination: sink });
    const client = createIntercomClient({ token: s.token, baseUrl: s.fake.baseUrl, timeoutMs: 1500 });
    s.h = await startHarness({
      env: { INTERCOM_ACCESS_TOKEN: s.token, INTERCOM_BASE_URL: s.fake.baseUrl },
      intercom: createIntercomWorkspace({ client, db: s.db, log }),
    });
  });
  afterAll(async () => {
    if (process.env['CRM_LAG_REPORT']) process.stderr.write(`CRM sync lag (ms): ${JSON.stringify(s.lags)}\n`);
    await s.h?.close();
    await s.db?.close();
    await s.fake?.close();
  });
  return s;
}

export interface Member extends MemberIds {
  appUserId: string;
  email: string;
}

export function member(): Member {
  const m = newMember();
  return { ...m, appUserId: `app-${m.customerId.slice(5)}`, email: `${m.customerId.toLowerCase()}@members.test` };
}

export const events = {
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

export async function deliver(...list: Array<ReturnType<typeof stripeEvent>>): Promise<void> {
  for (const e of list) expect((await stack.h.post(e)).status).toBe(200);
}

export async function crmOf(customerId: string): Promise<CrmSection['crm']> {
  const r = await stack.h.get(`/members/${customerId}`);
  return r.status === 200 ? (r.body.crm as CrmSection['crm']) : null;
}

/** Waits until the member's contact satisfies `check` and the newest sync attempt succeeded. */
export async function waitForContact(m: Member, check: (c: FakeContact) => boolean, what: string, timeoutMs = 15_000) {
  return waitFor(
    async () => {
      const c = stack.fake.contactByExternalId(m.appUserId) ?? stack.fake.contactByExternalId(m.customerId);
      const crm = await crmOf(m.customerId);
      return c && check(c) && crm?.lastOutcome === 'ok' ? { contact: c, crm } : undefined;
    },
    { timeoutMs, description: `the Intercom contact of ${m.customerId} to have ${what}` },
  ).then((found) => {
    if (found.crm.lagMs !== null) stack.lags.push({ what, lagMs: found.crm.lagMs });
    return found;
  });
}

export const hasStatus = (status: string) => (c: FakeContact) => c.custom_attributes['membership_status'] === status;

export async function syncLog(customerId: string, operation: string) {
  return stack.db.query<SyncLogRow & SyncLogRowTimes>(
    'SELECT * FROM crm_sync_log WHERE customer_id = $1 AND operation = $2 ORDER BY id',
    [customerId, operation],
  );
}

type SyncLogRow = { key: string; http_status: number | null; attempt: number; outcome: string; error: string | null };
type SyncLogRowTimes = { at: Date; request_id: string | null; duration_ms: number };

/** Statuses of the POST /contacts calls made for an external id. */
export const contactCreates = (externalId: string): number[] =>
  stack.fake.calls
    .filter((c) => c.method === 'POST' && c.path === '/contacts')
    .filter((c) => (c.body as { external_id?: string }).external_id === externalId)
    .map((c) => c.status);

/** Successful tag calls on the contact, counted by tag name (names read from the fake like any client would). */
export async function tagCallCounts(method: 'POST' | 'DELETE', contactId: string): Promise<Record<string, number>> {
  const res = await fetch(`${stack.fake.baseUrl}/tags`, { headers: { authorization: `Bearer ${stack.token}` } });
  const names = new Map(
    ((await res.json()) as { data: Array<{ id: string; name: string }> }).data.map((t) => [t.id, t.name]),
  );
  const out: Record<string, number> = {};
  for (const c of stack.fake.calls) {
    if (c.method !== method || c.status !== 200 || !c.path.startsWith(`/contacts/${contactId}/tags`)) continue;
    const id = method === 'POST' ? String((c.body as { id: string }).id) : (c.path.split('/').pop() as string);
    const name = names.get(id) ?? id;
    out[name] = (out[name] ?? 0) + 1;
  }
  return out;
}
