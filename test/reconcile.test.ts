/**
 * Reconciliation on its Temporal Schedule, against the local Stripe stand-in: a webhook that never arrived is found in
 * Stripe's event list and applied; a status Stripe changed without an event is repaired and alerted once.
 */
import { register } from 'prom-client';
import { createStripeClient } from '../lib/clients';
import { loadConfig } from '../lib/config';
import { startFakeStripeApi, type FakeStripeApi } from '../tools/testkit/fakes/fake-stripe-api';
import { stripeEvent, type StripeEventJson } from '../tools/testkit/stripe-events';
import { ensureReconcileSchedule, RECONCILE_SCHEDULE_ID } from '../worker/reconcile-schedule';
import { runBackfill } from './helpers/backfill';
import { startHarness, type Harness } from './helpers/harness';
import { waitFor } from './helpers/wait-for';

interface RunRow {
  id: string;
  events_listed: number;
  missed_events: number;
  members_checked: number;
  drift_repaired: number;
  drift: Array<{ customerId: string; stripeStatus: string | null; canonicalStatus: string }>;
  missed: Array<{ id: string; type: string }>;
}

let h: Harness;
let fake: FakeStripeApi;
beforeAll(async () => {
  fake = await startFakeStripeApi({ secretKey: 'sk_test_reconcile' });
  const stripe = createStripeClient({ secretKey: 'sk_test_reconcile', apiBase: fake.baseUrl });
  h = await startHarness({ stripe, env: { STRIPE_SECRET_KEY: 'sk_test_reconcile', STRIPE_API_BASE: fake.baseUrl } });
});
afterAll(async () => {
  await h?.temporal.schedule
    .getHandle(RECONCILE_SCHEDULE_ID)
    .delete()
    .catch(() => undefined);
  await h?.close();
  await fake?.close();
});

const driftCount = async (): Promise<number> =>
  (await register.getSingleMetric('memberops_reconcile_drift_repaired_total')?.get())?.values[0]?.value ?? 0;

/** Triggers the schedule now and waits for the run it starts to be recorded. */
async function reconcileNow(): Promise<RunRow> {
  const [last] = await h.db.query<{ id: string | null }>('SELECT max(id) AS id FROM reconcile_runs');
  const after = Number(last?.id ?? 0);
  await h.temporal.schedule.getHandle(RECONCILE_SCHEDULE_ID).trigger();
  return waitFor(
    async () =>
      (await h.db.query<RunRow>('SELECT * FROM reconcile_runs WHERE id > $1 ORDER BY id LIMIT 1', [after]))[0],
    { timeoutMs: 30_000, description: 'a reconciliation run recorded' },
  );
}

describe('reconciliation schedule', () => {
  it('is created once, updated in place when the interval changes, and removed when turned off', async () => {
    const taskQueue = h.config.temporal.taskQueue;
    await h.temporal.schedule
      .getHandle(RECONCILE_SCHEDULE_ID)
      .delete()
      .catch(() => undefined);

    expect(await ensureReconcileSchedule(h.temporal, { taskQueue, everyMs: 3_600_000 })).toBe('created');
    expect(await ensureReconcileSchedule(h.temporal, { taskQueue, everyMs: 900_000 })).toBe('updated');
    const d = await h.temporal.schedule.getHandle(RECONCILE_SCHEDULE_ID).describe();
    expect(d.spec.intervals).toEqual([expect.objectContaining({ every: 900_000 })]);
    expect(d.policies.overlap).toBe('SKIP');
    expect(d.action).toMatchObject({ type: 'startWorkflow', workflowType: 'reconcileWorkflow', taskQueue });

    expect(await ensureReconcileSchedule(h.temporal, { taskQueue, everyMs: null })).toBe('deleted');
    expect(await ensureReconcileSchedule(h.temporal, { taskQueue, everyMs: null })).toBe('absent');
    expect(await ensureReconcileSchedule(h.temporal, { taskQueue, everyMs: 3_600_000 })).toBe('created');
  });

  it('finds a webhook Stripe sent but memberops never received, and applies it as the webhook would have', async () => {
    const population = fake.seedPopulation(10, { prefix: 'cus_drop' });
    await runBackfill(h);
    const member = population.find((m) => m.stripeStatus === 'active' && !m.cancelAtPeriodEnd);
    if (!member?.subscriptionId) throw new Error('population has an active member');
    await h.waitForStatus(member.customerId, 'active');

    const sub = fake.subscription(member.subscriptionId) as Record<string, unknown>;
    Object.assign(sub, { status: 'canceled', canceled_at: Math.floor(Date.now() / 1000) });
    // Stripe emits the event; the webhook delivery is dropped on purpose (never posted).
    const dropped = fake.emitEvent('customer.subscription.deleted', sub);

    const run = await reconcileNow();

    expect(run.missed).toEqual([{ id: dropped.id, type: 'customer.subscription.deleted' }]);
    expect(run.missed_events).toBe(1);
    expect(run.drift_repaired).toBe(0);
    await h.waitForStatus(member.customerId, 'canceled');
    const [row] = await h.db.query<{ outcome: string }>('SELECT outcome FROM stripe_events WHERE id = $1', [
      dropped.id,
    ]);
    expect(row?.outcome).toBe('handed_off');
  });

  it('repairs a status Stripe changed without an event, and alerts once', async () => {
    const population = fake.seedPopulation(10, { prefix: 'cus_drift' });
    await runBackfill(h);
    // Snapshots are ordered by Stripe's whole seconds: a reconciliation run in the very second of the backfill's
    // snapshot would count as no newer (stale). Hourly runs never meet that; this test waits the second out.
    const backfilledIn = Math.floor(Date.now() / 1000);
    const member = population.find((m) => m.stripeStatus === 'active' && !m.cancelAtPeriodEnd);
    if (!member?.subscriptionId) throw new Error('population has an active member');
    await h.waitForStatus(member.customerId, 'active');
    const alertsBefore = await driftCount();

    // Stripe's subscription ends with no event about it; an invoice event for the member is delivered normally.
    Object.assign(fake.subscription(member.subscriptionId) as Record<string, unknown>, { status: 'canceled' });
    const invoice = stripeEvent('invoice.paid', {
      customerId: member.customerId,
      subscriptionId: member.subscriptionId,
    });
    // Created a few seconds before the run: a snapshot of the same second as the newest applied event counts as stale.
    const delivered = fake.emitEvent('invoice.paid', invoice.data.object, {
      created: Math.floor(Date.now() / 1000) - 5,
    }) as unknown as StripeEventJson;
    expect((await h.post(delivered)).status).toBe(200);

    await waitFor(async () => Math.floor(Date.now() / 1000) > backfilledIn, {
      timeoutMs: 5_000,
      description: 'the second of the backfill snapshot to pass',
    });
    const first = await reconcileNow();
    expect(first.missed_events).toBe(0);
    expect(first.drift).toEqual([
      { customerId: member.customerId, stripeStatus: 'canceled', canonicalStatus: 'active' },
    ]);
    const repaired = await h.waitForStatus(member.customerId, 'canceled');
    expect(repaired.transitions.at(-1).cause).toMatchObject({ kind: 'snapshot' });
    expect(await driftCount()).toBe(alertsBefore + 1);

    const second = await reconcileNow();
    expect(second.members_checked).toBeGreaterThanOrEqual(1);
    expect(second.drift_repaired).toBe(0);
    expect(await driftCount()).toBe(alertsBefore + 1);
    const notices = await h.db.query('SELECT 1 FROM member_notices WHERE customer_id = $1', [member.customerId]);
    expect(notices).toHaveLength(0);
  });
});

describe('RECONCILE_EVERY', () => {
  const base = { STRIPE_WEBHOOK_SECRET: 'whsec_test' };
  it.each([
    [undefined, 3_600_000],
    ['15m', 900_000],
    ['off', null],
  ])('reads %s as an interval of %s ms', (value, everyMs) => {
    expect(loadConfig({ ...base, ...(value ? { RECONCILE_EVERY: value } : {}) }).reconcile.everyMs).toBe(everyMs);
  });
  it.each(['soon', '10s'])('refuses %s, naming the variable', (value) => {
    expect(() => loadConfig({ ...base, RECONCILE_EVERY: value })).toThrow(/RECONCILE_EVERY/);
  });
});
