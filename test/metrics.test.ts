/**
 * The playbook's figures on GET /metrics, moved by real events through the stack (API, Temporal dev server, worker,
 * PostgreSQL). Counters are process-wide, so each test compares a reading before and after what it drives.
 */
import { DependencyUnavailableError } from '../lib/dependency-errors';
import { createDb, type Db } from '../lib/db';
import { createMetrics, recordOperatorAction } from '../lib/metrics';
import { newMember, stripeEvent, type MemberIds } from '../tools/testkit/stripe-events';
import { createCaptureMessenger } from './helpers/capture-messenger';
import { readJson, startHarness, testEnv, type Harness } from './helpers/harness';
import { metricValue, snapshot } from './helpers/metrics';
import { waitFor } from './helpers/wait-for';

/** What the API's PostgreSQL does on the next Stripe event insert: a fault of memberops, or an outage. */
let nextEventInsert: 'ok' | 'fault' | 'outage' = 'ok';

/** The API's database, made to fail on demand where the webhook records the event. */
function faultyDb(db: Db): Db {
  return {
    ...db,
    query: (text, params) => {
      if (nextEventInsert !== 'ok' && text.includes('INSERT INTO stripe_events')) {
        const kind = nextEventInsert;
        nextEventInsert = 'ok';
        return Promise.reject(
          kind === 'fault' ? new TypeError('a bug in memberops') : new DependencyUnavailableError('postgres', 'down'),
        );
      }
      return db.query(text, params);
    },
  };
}

describe('playbook metrics on GET /metrics', () => {
  let h: Harness;
  let apiDb: Db;
  /** The API's metrics, as the admin console will hold them. */
  const apiMetrics = createMetrics();
  beforeAll(async () => {
    apiDb = createDb(testEnv().databaseUrl);
    h = await startHarness({
      messenger: createCaptureMessenger(),
      env: { DUNNING_GRACE_PERIOD: '30s', DUNNING_REMINDERS: '0s', DUNNING_CANCEL_AFTER: '60s' },
      appDeps: { db: faultyDb(apiDb), metrics: apiMetrics },
    });
  });
  afterAll(async () => {
    await h?.close();
    await apiDb?.close();
  });

  async function startActive(): Promise<MemberIds> {
    const m = newMember();
    expect((await h.post(stripeEvent('customer.subscription.updated', m, { object: { status: 'active' } }))).status).toBe(200);
    await h.waitForStatus(m.customerId, 'active');
    return m;
  }

  /** Waits until every figure moved by at least the given amount from `before`. */
  async function waitForIncrease<K extends string>(
    wanted: Record<K, [string, Record<string, string>?]>,
    before: Record<K, number>,
    by: Record<K, number>,
  ): Promise<Record<K, number>> {
    let now = before;
    return waitFor(
      async () => {
        now = await snapshot(h, wanted);
        return (Object.keys(by) as K[]).every((k) => now[k] - before[k] >= by[k]) ? now : undefined;
      },
      { timeoutMs: 20_000, description: `metrics to rise by ${JSON.stringify(by)} from ${JSON.stringify(before)}` },
    ).catch((err: unknown) => {
      throw new Error(`${err instanceof Error ? err.message : String(err)}; last reading ${JSON.stringify(now)}`);
    });
  }

  it('counts a dunning cycle that ends paid as started and recovered, its notices as sent, and its lag', async () => {
    const m = await startActive();
    const wanted = {
      started: ['memberops_dunning_cycles_total', { stage: 'started' }],
      recovered: ['memberops_dunning_cycles_total', { stage: 'recovered' }],
      exhausted: ['memberops_dunning_cycles_total', { stage: 'exhausted' }],
      sent: ['memberops_member_notices_total', { outcome: 'sent' }],
      projected: ['memberops_projection_lag_seconds_count'],
    } satisfies Record<string, [string, Record<string, string>?]>;
    const before = await snapshot(h, wanted);
    expect((await h.post(stripeEvent('invoice.payment_failed', m))).status).toBe(200);
    await h.waitForStatus(m.customerId, 'grace_period');
    expect((await h.post(stripeEvent('invoice.paid', m))).status).toBe(200);
    await h.waitForStatus(m.customerId, 'active');
    // Two notices: payment failed, payment received; two event-caused transitions measured from their ack.
    const after = await waitForIncrease(wanted, before, { started: 1, recovered: 1, sent: 2, projected: 2, exhausted: 0 });
    expect(after.started - before.started).toBe(1);
    expect(after.recovered - before.recovered).toBe(1);
    expect(after.exhausted).toBe(before.exhausted);
  });

  it('counts a 400 and a 500 answered to Stripe as failed deliveries, apart from accepted ones', async () => {
    const wanted = {
      rejected: ['memberops_stripe_webhook_deliveries_total', { outcome: 'rejected', code: '400' }],
      fault: ['memberops_stripe_webhook_deliveries_total', { outcome: 'error', code: '500' }],
      outage: ['memberops_stripe_webhook_deliveries_total', { outcome: 'error', code: '503' }],
      accepted: ['memberops_stripe_webhook_deliveries_total', { outcome: 'accepted' }],
    } satisfies Record<string, [string, Record<string, string>?]>;
    const before = await snapshot(h, wanted);
    const m = newMember();
    const event = stripeEvent('customer.subscription.updated', m, { object: { status: 'active' } });
    expect((await h.post(event, { signature: 't=1,v1=forged' })).status).toBe(400);
    nextEventInsert = 'fault';
    expect((await h.post(event)).status).toBe(500);
    nextEventInsert = 'outage';
    expect((await h.post(event)).status).toBe(503);
    expect((await h.post(event)).status).toBe(200);
    const after = await snapshot(h, wanted);
    expect(after.rejected - before.rejected).toBe(1);
    expect(after.fault - before.fault).toBe(1);
    expect(after.outage - before.outage).toBe(1);
    expect(after.accepted - before.accepted).toBe(1);
  });

  it('counts an event recorded without a member as set aside', async () => {
    const before = await metricValue(h, 'memberops_stripe_webhook_deliveries_total', { outcome: 'set_aside' });
    const dispute = stripeEvent('charge.refunded', newMember());
    dispute.type = 'charge.dispute.created';
    Object.assign(dispute.data.object, { object: 'dispute', id: `du_T${Date.now()}`, charge: `ch_unknown_${Date.now()}` });
    delete (dispute.data.object as Record<string, unknown>)['customer'];
    const r = await h.post(dispute);
    expect(r).toMatchObject({ status: 200, body: { outcome: 'unlinked' } });
    expect(await metricValue(h, 'memberops_stripe_webhook_deliveries_total', { outcome: 'set_aside' })).toBe(before + 1);
  });

  it('counts a completed checkout as started and completed, an expired one as started only, each once', async () => {
    const wanted = {
      started: ['memberops_checkouts_started_total'],
      completed: ['memberops_checkouts_completed_total'],
    } satisfies Record<string, [string, Record<string, string>?]>;
    const before = await snapshot(h, wanted);
    const completed = stripeEvent('checkout.session.completed', newMember());
    const expired = stripeEvent('checkout.session.completed', newMember());
    expired.type = 'checkout.session.expired';
    for (const e of [completed, completed, expired]) expect((await h.post(e)).status).toBe(200);
    const after = await snapshot(h, wanted);
    expect(after.started - before.started).toBe(2);
    expect(after.completed - before.completed).toBe(1);
  });

  it('counts a support request by its intent and route', async () => {
    const labels = { source: 'api', intent: 'cancellation' };
    const before = await metricValue(h, 'memberops_support_requests_total', labels);
    const res = await h.fetch('/support/requests', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: `m-${Date.now()}@example.test`, body: 'How do I cancel my membership?' }),
    });
    const answer = await readJson(res);
    expect(answer.status).toBe(202);
    expect(answer.body.intent).toBe('cancellation');
    const route = answer.body.route as string;
    expect(await metricValue(h, 'memberops_support_requests_total', { ...labels, route })).toBeGreaterThanOrEqual(1);
    expect(await metricValue(h, 'memberops_support_requests_total', labels)).toBe(before + 1);
  });

  it('refuses GET /metrics without the API key', async () => {
    const res = await fetch(`${h.api.url}/metrics`);
    expect(res.status).toBe(401);
  });

  it('counts operator actions by kind once the console records them, and refuses a free-text kind', async () => {
    const wanted = {
      grant: ['memberops_operator_actions_total', { kind: 'grant_access' }],
      resend: ['memberops_operator_actions_total', { kind: 'resend_notice' }],
    } as const satisfies Record<string, [string, Record<string, string>]>;
    const before = await snapshot(h, wanted);
    recordOperatorAction(apiMetrics, 'grant_access');
    recordOperatorAction(apiMetrics, 'grant_access');
    recordOperatorAction(apiMetrics, 'resend_notice');
    expect(await snapshot(h, wanted)).toEqual({ grant: before.grant + 2, resend: before.resend + 1 });
    // A kind carrying ids or text would make a series per member.
    expect(() => recordOperatorAction(apiMetrics, 'grant access to cus_123')).toThrow(/snake_case/);
  });
});
