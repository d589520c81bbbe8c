import { createStripeClient } from '../lib/clients';
import { startFakeStripeApi, type FakeStripeApi } from '../tools/testkit/fakes/fake-stripe-api';
import { createCaptureMessenger, type CaptureMessenger } from './helpers/capture-messenger';
import { startHarness, type Harness } from './helpers/harness';
import { newMember, nextCreated, stripeEvent, type MemberIds } from '../tools/testkit/stripe-events';
import { waitFor } from './helpers/wait-for';

const activeSub = (m: MemberIds, object: Record<string, unknown> = {}) =>
  stripeEvent('customer.subscription.updated', m, { object: { status: 'active', ...object } });

async function deliver(h: Harness, ...events: Array<ReturnType<typeof stripeEvent>>): Promise<void> {
  for (const e of events) expect((await h.post(e)).status).toBe(200);
}

async function startActive(h: Harness): Promise<MemberIds> {
  const m = newMember();
  await deliver(h, activeSub(m));
  await h.waitForStatus(m.customerId, 'active');
  return m;
}

const transitionsOf = (member: { transitions: Array<{ to: string; cause: { kind: string; timer?: string } }> }) =>
  member.transitions.map((t) => (t.cause.kind === 'timer' ? `${t.to}(${t.cause.timer})` : t.to));

describe('dunning with a short policy', () => {
  let h: Harness;
  let messenger: CaptureMessenger;
  beforeAll(async () => {
    messenger = createCaptureMessenger();
    h = await startHarness({
      messenger,
      env: { DUNNING_GRACE_PERIOD: '3s', DUNNING_REMINDERS: '0s,2s', DUNNING_CANCEL_AFTER: '30s' },
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('moves a member from grace (allowed) to past_due (denied) and back to active on payment', async () => {
    const m = await startActive(h);
    const failed = stripeEvent('invoice.payment_failed', m, {
      object: { hosted_invoice_url: 'https://invoice.stripe.com/i/acct_test/pay-me', attempt_count: 1 },
    });
    await deliver(h, failed);
    const grace = await h.waitForStatus(m.customerId, 'grace_period');
    expect(grace.allowed).toBe(true);
    expect(grace.dunning).toMatchObject({ cycleStartedAt: expect.any(String), graceEndsAt: expect.any(String), cancelsAt: expect.any(String) });
    const pastDue = await h.waitForStatus(m.customerId, 'past_due');
    expect(pastDue.allowed).toBe(false);
    expect((await h.get(`/members/${m.customerId}/access`)).body).toMatchObject({ allowed: false, status: 'past_due' });
    await deliver(h, stripeEvent('invoice.paid', m));
    const back = await h.waitForStatus(m.customerId, 'active');
    expect(transitionsOf(back)).toEqual(['active', 'grace_period', 'past_due(grace_period_end)', 'active']);
    expect(back.dunning).toBeNull();
    const first = messenger.to(m.customerId)[0];
    expect(first?.subject).toMatch(/payment failed/i);
    expect(first?.body).toContain('https://invoice.stripe.com/i/acct_test/pay-me');
    await waitFor(() => messenger.to(m.customerId).some((s) => /payment received/i.test(s.subject)));
  });

  it('cancels every timer when the member pays during the grace period', async () => {
    const m = await startActive(h);
    await deliver(h, stripeEvent('invoice.payment_failed', m));
    const grace = await h.waitForStatus(m.customerId, 'grace_period');
    await deliver(h, stripeEvent('invoice.paid', m));
    await h.waitForStatus(m.customerId, 'active');
    // Wait until the grace period would have ended, then prove nothing fired.
    const graceEnds = Date.parse(grace.dunning.graceEndsAt);
    await waitFor(() => Date.now() > graceEnds + 2500, { timeoutMs: 15_000, description: 'the old grace deadline to pass' });
    const member = (await h.get(`/members/${m.customerId}?consistency=strong`)).body;
    expect(member.status).toBe('active');
    expect(transitionsOf(member)).toEqual(['active', 'grace_period', 'active']);
    const kinds = messenger.to(m.customerId).map((s) => s.subject);
    expect(kinds.filter((s) => /reminder/i.test(s))).toHaveLength(0);
  });

  it("runs one cycle with one set of reminders for Stripe's retries of the same invoice, each delivered three times", async () => {
    const m = await startActive(h);
    const invoiceId = `in_T${Date.now()}`;
    const attempts = [1, 2, 3].map((n) =>
      stripeEvent('invoice.payment_failed', m, { object: { id: invoiceId, attempt_count: n } }),
    );
    for (const e of attempts) for (let i = 0; i < 3; i++) await deliver(h, e);
    await h.waitForStatus(m.customerId, 'past_due');
    await waitFor(() => messenger.to(m.customerId).length >= 2, { description: 'two reminders' });
    const member = (await h.get(`/members/${m.customerId}?consistency=strong`)).body;
    expect(member.dunningCycles).toBeUndefined(); // not part of the public body
    expect(member.dunning.remindersSent).toBe(2);
    expect(messenger.to(m.customerId).map((s) => s.subject)).toEqual([
      'Your membership payment failed',
      'Reminder: your membership payment is still open',
    ]);
  });

  it('sends each notice exactly once when the provider fails twice before accepting', async () => {
    const m = await startActive(h);
    messenger.failNext(2);
    const attemptsBefore = messenger.attempts;
    await deliver(h, stripeEvent('invoice.payment_failed', m));
    await waitFor(() => messenger.to(m.customerId).length >= 1, { description: 'the first notice after retries' });
    expect(messenger.attempts - attemptsBefore).toBeGreaterThanOrEqual(3);
    await h.waitForStatus(m.customerId, 'past_due');
    await waitFor(() => messenger.to(m.customerId).length >= 2);
    const keys = await h.db.query<{ key: string; status: string }>(
      'SELECT key, status FROM member_notices WHERE customer_id = $1 ORDER BY key',
      [m.customerId],
    );
    expect(keys).toEqual([
      { key: `${m.customerId}:dunning:1:reminder:0`, status: 'sent' },
      { key: `${m.customerId}:dunning:1:reminder:1`, status: 'sent' },
    ]);
    expect(messenger.to(m.customerId)).toHaveLength(2);
  });

  it('ends access at the period end when the member canceled at period end, and ignores the late deletion', async () => {
    const m = await startActive(h);
    const periodEnd = Math.floor(Date.now() / 1000) + 3;
    await deliver(h, activeSub(m, { cancel_at_period_end: true, cancel_at: periodEnd }));
    await waitFor(async () => ((await h.get(`/members/${m.customerId}`)).body.cancelAtPeriodEnd ? true : undefined));
    expect((await h.get(`/members/${m.customerId}/access`)).body.allowed).toBe(true);
    const canceled = await h.waitForStatus(m.customerId, 'canceled');
    expect(Date.now()).toBeGreaterThanOrEqual(periodEnd * 1000);
    expect(transitionsOf(canceled)).toEqual(['active', 'canceled(period_end_cancel)']);
    await deliver(h, stripeEvent('customer.subscription.deleted', m, { object: { status: 'canceled' }, created: nextCreated() }));
    await waitFor(async () => {
      const rows = await h.db.query<{ outcome: string }>(
        `SELECT outcome FROM stripe_events WHERE customer_id = $1 AND type = 'customer.subscription.deleted'`,
        [m.customerId],
      );
      return rows[0]?.outcome === 'handed_off';
    });
    const after = (await h.get(`/members/${m.customerId}?consistency=strong`)).body;
    expect(after.transitions).toHaveLength(2);
  });

  it('sends one trial reminder for trial_will_end, however often it is delivered', async () => {
    const m = newMember();
    await deliver(h, stripeEvent('customer.subscription.created', m, { object: { status: 'trialing', trial_end: nextCreated() + 3 * 86400 } }));
    await h.waitForStatus(m.customerId, 'trialing');
    const willEnd = stripeEvent('customer.subscription.trial_will_end', m, { object: { status: 'trialing' } });
    for (let i = 0; i < 3; i++) await deliver(h, willEnd);
    await waitFor(() => messenger.to(m.customerId).length >= 1);
    await waitFor(async () => {
      const rows = await h.db.query(`SELECT 1 FROM stripe_events WHERE id = $1 AND outcome = 'handed_off'`, [willEnd.id]);
      return rows.length === 1;
    });
    const member = (await h.get(`/members/${m.customerId}?consistency=strong`)).body;
    expect(member.status).toBe('trialing');
    expect(messenger.to(m.customerId).map((s) => s.subject)).toEqual(['Your trial ends soon']);
  });
});

describe('final dunning step', () => {
  let h: Harness;
  let stripeApi: FakeStripeApi;
  beforeAll(async () => {
    stripeApi = await startFakeStripeApi();
    const stripe = createStripeClient({ secretKey: 'sk_test_memberops', apiBase: stripeApi.baseUrl });
    h = await startHarness({
      stripe,
      env: {
        DUNNING_GRACE_PERIOD: '1s',
        DUNNING_REMINDERS: '0s',
        DUNNING_CANCEL_AFTER: '3s',
        DUNNING_FINAL_ACTION: 'cancel_in_stripe',
        STRIPE_SECRET_KEY: 'sk_test_memberops',
        STRIPE_API_BASE: stripeApi.baseUrl,
      },
    });
  });
  afterAll(async () => {
    await h?.close();
    await stripeApi?.close();
  });

  it('cancels in Stripe exactly once when dunning is exhausted, and marks the member canceled', async () => {
    const m = await startActive(h);
    stripeApi.seedSubscription({ id: m.subscriptionId, customer: m.customerId, status: 'past_due' });
    stripeApi.fail({ status: 500, times: 1, match: { method: 'DELETE' } });
    await deliver(h, stripeEvent('invoice.payment_failed', m));
    const member = await h.waitForStatus(m.customerId, 'canceled');
    expect(transitionsOf(member)).toEqual(['active', 'grace_period', 'past_due(grace_period_end)', 'canceled(dunning_cancel)']);
    await waitFor(() => stripeApi.cancelCalls(m.subscriptionId) >= 1, { description: 'the cancel call' });
    await waitFor(async () => {
      const rows = await h.db.query(`SELECT 1 FROM member_notices WHERE customer_id = $1 AND kind = 'canceled' AND status = 'sent'`, [m.customerId]);
      return rows.length === 1;
    });
    expect(stripeApi.cancelCalls(m.subscriptionId)).toBe(1);
    expect(stripeApi.rawCalls('DELETE')).toBeGreaterThanOrEqual(2);
  });
});
