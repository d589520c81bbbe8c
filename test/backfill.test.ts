/**
 * The first backfill against the local Stripe stand-in: every existing customer becomes a member with the state Stripe
 * says, without a notice; a second run changes nothing, and it never moves a member back behind a newer webhook (a
 * killed worker: backfill-crash.test.ts).
 */
import { createStripeClient } from '../lib/clients';
import { startFakeStripeApi, type FakeStripeApi } from '../tools/testkit/fakes/fake-stripe-api';
import { stripeEvent } from '../tools/testkit/stripe-events';
import { memberWorkflowId, membershipQuery } from '../workflows/messages';
import { membersWithPrefix, mismatches, noticesWithPrefix, runBackfill } from './helpers/backfill';
import { startHarness, type Harness } from './helpers/harness';
import { waitFor } from './helpers/wait-for';

const LARGE = Number(process.env['BACKFILL_TEST_CUSTOMERS'] ?? 10_000);
/** Stripe requests per second of the large backfill (README figures); 0: unthrottled. */
const RATE = Number(process.env['BACKFILL_TEST_RATE'] ?? 0);

let h: Harness;
let fake: FakeStripeApi;
beforeAll(async () => {
  fake = await startFakeStripeApi({ secretKey: 'sk_test_backfill' });
  const stripe = createStripeClient({ secretKey: 'sk_test_backfill', apiBase: fake.baseUrl });
  h = await startHarness({ stripe, env: { STRIPE_SECRET_KEY: 'sk_test_backfill', STRIPE_API_BASE: fake.baseUrl } });
});
afterAll(async () => {
  await h?.close();
  await fake?.close();
});
afterEach(() => fake.reset());

/** Waits until each member's workflow has no workflow task left to run: every snapshot and event handed over is applied. */
async function settled(customerIds: string[]): Promise<void> {
  for (const id of customerIds) {
    await waitFor(
      async () => {
        const d = await h.temporal.workflow.getHandle(memberWorkflowId(id)).describe();
        return !d.raw.pendingWorkflowTask;
      },
      { description: `member ${id} to settle`, timeoutMs: 30_000 },
    );
  }
}

describe('backfill', () => {
  it(`creates ${LARGE} members with Stripe's states and sends no notice, through 429s and 500s`, async () => {
    const population = fake.seedPopulation(LARGE, { prefix: 'cus_big' });
    fake.fail({ status: 429, retryAfterSeconds: 1, match: { path: /^\/v1\/customers$/ } });
    fake.fail({ status: 500, times: 2, match: { path: /^\/v1\/subscriptions$/ } });
    const started = Date.now();

    const progress = await runBackfill(h, { requestsPerSecond: RATE });
    const handedOff = (Date.now() - started) / 1000;
    const members = await waitFor(
      async () => {
        const m = await membersWithPrefix(h.db, 'cus_big');
        return mismatches(m, population).length === 0 ? m : undefined;
      },
      { timeoutMs: 1_500_000, intervalMs: 2000, description: `${LARGE} members projected with Stripe's states` },
    );
    const projected = (Date.now() - started) / 1000;
    process.stderr.write(
      `[backfill] ${LARGE} customers: handed off in ${handedOff.toFixed(1)} s (${(LARGE / handedOff).toFixed(0)}/s), ` +
        `all projected in ${projected.toFixed(1)} s (${(LARGE / projected).toFixed(0)}/s)\n`,
    );

    expect(members.size).toBe(LARGE);
    expect(progress).toMatchObject({
      done: true,
      customers: LARGE,
      created: LARGE,
      updated: 0,
      pages: Math.ceil(LARGE / 100),
    });
    expect(progress.errors).toBe(3);
    expect(await noticesWithPrefix(h.db, 'cus_big')).toBe(0);
    // The 429 and the 500s hit the first page: it was read again once per failure, and no later page started over.
    const lists = fake.calls.filter((c) => c.path === '/v1/customers');
    expect(lists.filter((c) => !c.query.includes('starting_after'))).toHaveLength(1 + progress.errors);
    expect(lists).toHaveLength(progress.pages + progress.errors);
  }, 1_800_000);

  it('changes nothing when run a second time', async () => {
    const population = fake.seedPopulation(200, { prefix: 'cus_twice' });
    await runBackfill(h, { runId: 'first' });
    await waitFor(async () => mismatches(await membersWithPrefix(h.db, 'cus_twice'), population).length === 0, {
      timeoutMs: 60_000,
    });
    await settled(population.map((m) => m.customerId));
    const before = await membersWithPrefix(h.db, 'cus_twice');

    const second = await runBackfill(h, { runId: 'second' });
    await settled(population.map((m) => m.customerId));

    expect(second).toMatchObject({ customers: 200, created: 0, updated: 200 });
    const versions = await Promise.all(
      population.map(
        async (m) =>
          (await h.temporal.workflow.getHandle(memberWorkflowId(m.customerId)).query(membershipQuery)).version,
      ),
    );
    expect(versions).toEqual(population.map((m) => Number(before.get(m.customerId)?.version)));
    expect(await membersWithPrefix(h.db, 'cus_twice')).toEqual(before);
    expect(await noticesWithPrefix(h.db, 'cus_twice')).toBe(0);
  }, 120_000);

  it('ends in the newer state when a backfill and live webhooks race for the same member', async () => {
    const population = fake.seedPopulation(20, { prefix: 'cus_race' });
    const [early, late] = population.filter((m) => m.stripeStatus === 'active');
    if (!early?.subscriptionId || !late?.subscriptionId) throw new Error('population has two active members');
    const now = Math.floor(Date.now() / 1000);
    // Delivered before the backfill but newer than its snapshot: the snapshot must not undo it.
    const newer = stripeEvent(
      'customer.subscription.deleted',
      { customerId: early.customerId, subscriptionId: early.subscriptionId },
      {
        created: now + 60,
        object: { status: 'canceled' },
      },
    );
    expect((await h.post(newer)).status).toBe(200);
    await h.waitForStatus(early.customerId, 'canceled');

    await runBackfill(h);
    await settled(population.map((m) => m.customerId));
    // Delivered after the backfill but older than its snapshot: Stripe's newer state stands.
    const older = stripeEvent(
      'customer.subscription.updated',
      { customerId: late.customerId, subscriptionId: late.subscriptionId },
      {
        created: now - 3600,
        object: { status: 'past_due' },
      },
    );
    expect((await h.post(older)).status).toBe(200);
    await settled([late.customerId]);

    expect((await h.get(`/members/${early.customerId}`)).body.status).toBe('canceled');
    expect((await h.get(`/members/${late.customerId}`)).body.status).toBe('active');
    expect(await noticesWithPrefix(h.db, 'cus_race')).toBe(0);
  }, 120_000);
});
