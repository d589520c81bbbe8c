/**
 * A long PostgreSQL outage cannot grow one member's history without bound: with the projection and the notices
 * failing (PostgreSQL refuses the member's writes), events keep arriving and the workflow still continues as new,
 * carrying the unfinished effects; after recovery every notice is delivered exactly once.
 */
import { randomBytes } from 'node:crypto';
import type { MemberMessages } from '../activities/intercom/messages';
import { newMember, stripeEvent } from '../tools/testkit/stripe-events';
import { membershipQuery, memberWorkflowId } from '../workflows/messages';
import { startHarness, type Harness } from './helpers/harness';
import { waitFor } from './helpers/wait-for';

jest.setTimeout(240_000);

const sent: Array<{ customerId: string; subject: string }> = [];
const capture: MemberMessages = {
  channel: 'log',
  async send(target, message) {
    sent.push({ customerId: target.customerId, subject: message.subject });
    return {};
  },
};

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    messenger: capture,
    env: {
      // The smallest history limit the config allows: a few events fill a run.
      MEMBER_HISTORY_LIMIT: '20',
      // Longer than the test: the notices retry through the whole outage instead of giving up.
      EFFECT_RETRY_DEADLINE: '1 hour',
      DUNNING_GRACE_PERIOD: '1 hour',
      DUNNING_REMINDERS: '0s',
      DUNNING_CANCEL_AFTER: '2 hours',
    },
  });
});
afterAll(async () => {
  await h?.db.query('DROP TRIGGER IF EXISTS outage ON memberships').catch(() => undefined);
  await h?.db.query('DROP TRIGGER IF EXISTS outage ON member_notices').catch(() => undefined);
  await h?.close();
});

/** PostgreSQL refuses the worker's writes of this member's projection and notices, as during an outage. */
async function outage(on: boolean): Promise<void> {
  if (on) {
    await h.db.query(
      `CREATE OR REPLACE FUNCTION outage_refuse() RETURNS trigger LANGUAGE plpgsql AS
       $$ BEGIN RAISE EXCEPTION 'outage (injected by the test)'; END $$`,
    );
    for (const table of ['memberships', 'member_notices']) {
      await h.db.query(
        `CREATE TRIGGER outage BEFORE INSERT OR UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION outage_refuse()`,
      );
    }
  } else {
    for (const table of ['memberships', 'member_notices']) await h.db.query(`DROP TRIGGER outage ON ${table}`);
  }
}

it('continues as new during the outage and delivers every notice exactly once after it', async () => {
  const ids = newMember();
  const m = {
    ...ids,
    appUserId: `app-${ids.customerId.slice(5)}`,
    email: `${ids.customerId.toLowerCase()}@members.test`,
  };
  const post = async (e: ReturnType<typeof stripeEvent>) => expect((await h.post(e)).status).toBe(200);
  await post(
    stripeEvent('checkout.session.completed', m, {
      object: { client_reference_id: m.appUserId, payment_status: 'paid', customer_details: { email: m.email } },
    }),
  );
  await h.waitForStatus(m.customerId, 'active');
  const workflow = h.temporal.workflow.getHandle(memberWorkflowId(m.customerId));
  const firstRunId = (await workflow.describe()).runId;

  await outage(true);
  const cycles = 6;
  for (let i = 0; i < cycles; i++) {
    const invoice = `in_T${randomBytes(6).toString('hex')}`;
    await post(stripeEvent('invoice.payment_failed', m, { object: { id: invoice, customer_email: m.email } }));
    await waitFor(async () => (await workflow.query(membershipQuery)).status === 'grace_period' || undefined, {
      // Up to a projection's local attempts (about 7 s) and a workflow task between events while PostgreSQL refuses writes.
      timeoutMs: 90_000,
      description: `cycle ${i}: grace period in the workflow`,
    });
    await post(stripeEvent('invoice.paid', m, { object: { id: invoice, customer_email: m.email } }));
    await waitFor(async () => (await workflow.query(membershipQuery)).status === 'active' || undefined, {
      // Up to a projection's local attempts (about 7 s) and a workflow task between events while PostgreSQL refuses writes.
      timeoutMs: 90_000,
      description: `cycle ${i}: active again in the workflow`,
    });
  }
  // Still in the outage: nothing projected or sent, yet the history did not grow past the limit in one run.
  const runs = await waitFor(
    async () => {
      const found: string[] = [];
      for await (const w of h.temporal.workflow.list({ query: `WorkflowId = '${memberWorkflowId(m.customerId)}'` })) {
        found.push(w.runId);
      }
      return found.length >= 3 ? found : undefined;
    },
    { timeoutMs: 60_000, description: 'the member workflow to continue as new during the outage' },
  );
  expect(runs).toContain(firstRunId);
  expect(sent).toEqual([]);
  const [projected] = await h.db.query<{ status: string }>('SELECT status FROM memberships WHERE customer_id = $1', [
    m.customerId,
  ]);
  expect(projected?.status).toBe('active'); // the row from before the outage: later versions were refused
  const firstRun = await h.temporal.workflow.getHandle(memberWorkflowId(m.customerId), firstRunId).fetchHistory();
  expect(firstRun.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes).toBeTruthy();

  await outage(false);
  // Every carried notice goes out once: one per key, all sent, as many messages as keys.
  const notices = await waitFor(
    async () => {
      const rows = await h.db.query<{ key: string; kind: string; status: string }>(
        'SELECT key, kind, status FROM member_notices WHERE customer_id = $1 ORDER BY key',
        [m.customerId],
      );
      const recovered = rows.filter((r) => r.kind === 'payment_recovered' && r.status === 'sent');
      return recovered.length === cycles && rows.every((r) => r.status === 'sent') ? rows : undefined;
    },
    { timeoutMs: 150_000, description: 'every carried notice to be sent after the outage' },
  );
  expect(notices.filter((r) => r.kind === 'payment_recovered')).toHaveLength(cycles);
  expect(notices.length).toBeGreaterThanOrEqual(2 * cycles);
  await h.waitForStatus(m.customerId, 'active', 60_000);
  // No activity left running anywhere: the counts are final.
  await waitFor(async () => ((await workflow.describe()).raw.pendingActivities?.length ?? 0) === 0 || undefined, {
    timeoutMs: 60_000,
    description: 'no pending activity',
  });
  const mine = sent.filter((s) => s.customerId === m.customerId);
  expect(mine).toHaveLength(notices.length);
});
