import { startHarness, type Harness } from './helpers/harness';
import { loadFixture, newMember, nextCreated, sign, stripeEvent, type MemberIds } from '../tools/testkit/stripe-events';
import { waitFor } from './helpers/wait-for';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

async function deliver(...events: Array<ReturnType<typeof stripeEvent>>): Promise<void> {
  for (const e of events) {
    const r = await h.post(e);
    expect(r.status).toBe(200);
  }
}

async function eventCount(): Promise<number> {
  const [row] = await h.db.query<{ n: string }>('SELECT count(*) AS n FROM stripe_events');
  return Number(row?.n);
}

function activeSub(m: MemberIds, object: Record<string, unknown> = {}) {
  return stripeEvent('customer.subscription.updated', m, { object: { status: 'active', ...object } });
}

describe('Stripe webhooks drive the membership', () => {
  it('moves a member to active and allowed after checkout, and links the app user id', async () => {
    const m = newMember();
    await deliver(
      stripeEvent('checkout.session.completed', m, { object: { client_reference_id: 'app-user-1001', payment_status: 'paid' } }),
      stripeEvent('customer.subscription.created', m, { object: { status: 'active' } }),
      stripeEvent('invoice.paid', m),
    );
    const member = await h.waitForStatus(m.customerId, 'active');
    expect(member).toMatchObject({ allowed: true, appUserId: 'app-user-1001', email: 'customer@example.com', subscriptionId: m.subscriptionId });
    expect(member.transitions).toEqual([
      expect.objectContaining({ from: 'none', to: 'active', cause: expect.objectContaining({ kind: 'event', eventType: 'checkout.session.completed' }) }),
    ]);
    const access = await waitFor(async () => {
      const r = await h.get('/members/app-user-1001/access');
      return r.status === 200 ? r.body : undefined;
    });
    expect(access).toEqual({ memberId: 'app-user-1001', status: 'active', allowed: true, reason: 'subscription active' });
  });

  it('puts a member on a trial in trialing, with access', async () => {
    const m = newMember();
    await deliver(stripeEvent('customer.subscription.created', m, { object: { status: 'trialing', trial_end: nextCreated() + 7 * 86400 } }));
    const member = await h.waitForStatus(m.customerId, 'trialing');
    expect(member.allowed).toBe(true);
    expect(member.trialEnd).toEqual(expect.any(String));
  });

  it('denies access once the subscription is canceled immediately', async () => {
    const m = newMember();
    await deliver(activeSub(m));
    await h.waitForStatus(m.customerId, 'active');
    await deliver(stripeEvent('customer.subscription.deleted', m, { object: { status: 'canceled' } }));
    const member = await h.waitForStatus(m.customerId, 'canceled');
    expect(member.allowed).toBe(false);
    expect((await h.get(`/members/${m.customerId}/access`)).body).toMatchObject({ status: 'canceled', allowed: false });
  });

  it('keeps access when the member cancels at period end', async () => {
    const m = newMember();
    await deliver(activeSub(m));
    await h.waitForStatus(m.customerId, 'active');
    const periodEnd = nextCreated() + 20 * 86400;
    await deliver(activeSub(m, { cancel_at_period_end: true, cancel_at: periodEnd }));
    const member = await waitFor(async () => {
      const r = await h.get(`/members/${m.customerId}`);
      return r.body.cancelAtPeriodEnd ? r.body : undefined;
    });
    expect(member).toMatchObject({ status: 'active', allowed: true });
  });

  it('denies access after a full refund, and leaves a partial refund without effect', async () => {
    const m = newMember();
    await deliver(activeSub(m));
    await h.waitForStatus(m.customerId, 'active');
    const partial = stripeEvent('charge.refunded', m, { object: { amount: 4999, amount_captured: 4999, amount_refunded: 1000, refunded: false } });
    await deliver(partial);
    await waitFor(async () => {
      const [row] = await h.db.query<{ outcome: string }>('SELECT outcome FROM stripe_events WHERE id = $1', [partial.id]);
      return row?.outcome === 'handed_off';
    });
    const afterPartial = (await h.get(`/members/${m.customerId}?consistency=strong`)).body;
    expect(afterPartial).toMatchObject({ status: 'active', allowed: true });
    await deliver(stripeEvent('charge.refunded', m, { object: { amount: 4999, amount_captured: 4999, amount_refunded: 4999, refunded: true } }));
    const member = await h.waitForStatus(m.customerId, 'refunded');
    expect(member.allowed).toBe(false);
  });

  it('applies every event delivered three times exactly once', async () => {
    const m = newMember();
    const events = [
      activeSub(m),
      stripeEvent('invoice.payment_failed', m),
      stripeEvent('invoice.paid', m),
    ];
    for (const e of events) for (let i = 0; i < 3; i++) await deliver(e);
    await waitFor(async () => {
      const r = await h.get(`/members/${m.customerId}`);
      return r.status === 200 && r.body.transitions.length === 3 ? r.body : undefined;
    });
    const member = (await h.get(`/members/${m.customerId}?consistency=strong`)).body;
    expect(member.status).toBe('active');
    const stored = (await h.get(`/members/${m.customerId}`)).body;
    expect(stored.transitions.map((t: { to: string }) => t.to)).toEqual(['active', 'grace_period', 'active']);
    // One failed-payment notice and one recovered notice, whatever the redeliveries.
    const notices = await waitFor(async () => {
      const rows = await h.db.query<{ kind: string }>(`SELECT kind FROM member_notices WHERE customer_id = $1 AND status = 'sent' ORDER BY created_at`, [m.customerId]);
      return rows.length >= 2 ? rows : undefined;
    });
    expect(notices.map((r) => r.kind)).toEqual(['payment_failed', 'payment_recovered']);
    const [deliveries] = await h.db.query<{ n: number }>('SELECT max(delivery_count) AS n FROM stripe_events WHERE customer_id = $1', [m.customerId]);
    expect(deliveries?.n).toBe(3);
  });

  it('stays canceled when a newer deletion arrives before an older update', async () => {
    const m = newMember();
    await deliver(activeSub(m));
    await h.waitForStatus(m.customerId, 'active');
    const older = activeSub(m, { cancel_at_period_end: true });
    const deletion = stripeEvent('customer.subscription.deleted', m, { object: { status: 'canceled' } });
    await deliver(deletion, older);
    await h.waitForStatus(m.customerId, 'canceled');
    await waitFor(async () => {
      const [row] = await h.db.query<{ outcome: string }>('SELECT outcome FROM stripe_events WHERE id = $1', [older.id]);
      return row?.outcome === 'handed_off';
    });
    const strong = (await h.get(`/members/${m.customerId}?consistency=strong`)).body;
    expect(strong.status).toBe('canceled');
  });

  it('acknowledges event types it does not handle and records them', async () => {
    const e = { ...loadFixture('charge.refund.updated.2025-08-27.basil.json'), id: `evt_unknown_${Date.now()}` };
    const r = await h.post(e);
    expect(r).toEqual({ status: 200, body: expect.objectContaining({ outcome: 'ignored_unhandled' }) });
    const [row] = await h.db.query<{ outcome: string }>('SELECT outcome FROM stripe_events WHERE id = $1', [e.id]);
    expect(row?.outcome).toBe('ignored_unhandled');
  });

  it('records a dispute on an unknown charge without a member, and links one on a known charge', async () => {
    const m = newMember();
    const refund = stripeEvent('charge.refunded', m, { object: { amount_refunded: 100, refunded: false } });
    await deliver(activeSub(m), refund);
    const dispute = (charge: string) => ({
      ...stripeEvent('charge.refunded', m),
      type: 'charge.dispute.created',
      data: { object: { id: `du_${Date.now()}`, object: 'dispute', charge, reason: 'fraudulent', amount: 4999, status: 'needs_response' } },
    });
    const unlinked = await h.post(dispute('ch_never_seen'));
    expect(unlinked).toEqual({ status: 200, body: expect.objectContaining({ outcome: 'unlinked' }) });
    const linked = await h.post(dispute(refund.data.object['id'] as string));
    expect(linked).toEqual({ status: 200, body: expect.objectContaining({ outcome: 'handed_off', customerId: m.customerId }) });
    await waitFor(async () => ((await h.get(`/members/${m.customerId}`)).body.disputed === true ? true : undefined));
  });

  it('processes an event of an older API version by its shape, and counts the mismatch', async () => {
    const m = newMember();
    await deliver(activeSub(m));
    await h.waitForStatus(m.customerId, 'active');
    const old = loadFixture('api-2020-03-02/subscription_deleted.json');
    old.id = `evt_old_${Date.now()}`;
    old.created = nextCreated();
    Object.assign(old.data.object, { id: m.subscriptionId, customer: m.customerId, status: 'canceled' });
    expect((await h.post(old)).status).toBe(200);
    await h.waitForStatus(m.customerId, 'canceled');
    const metrics = await h.fetch('/metrics').then((r) => r.text());
    expect(metrics).toMatch(/memberops_stripe_api_version_mismatch_total\{api_version="2020-03-02"\} [1-9]/);
  });
});

describe('webhook intake refuses what it cannot trust', () => {
  const valid = () => JSON.stringify(activeSub(newMember()));

  it.each([
    ['a missing signature', () => h.post(valid(), { signature: null })],
    ['a wrong signature', () => h.post(valid(), { signature: 't=1700000000,v1=deadbeef' })],
    ['a signature made with another secret', () => {
      const body = valid();
      return h.post(body, { signature: sign(body, 'whsec_other') });
    }],
    ['a stale signature (older than the 5 minute tolerance)', () => h.post(valid(), { timestamp: Math.floor(Date.now() / 1000) - 3600 })],
    ['malformed JSON', () => h.post('{"id": "evt_1", "object": "event", ')],
    ['a JSON body that is not an event', () => h.post(JSON.stringify({ hello: 'world' }))],
  ])('answers 400 and records nothing for %s', async (_name, send) => {
    const before = await eventCount();
    const r = await send();
    expect(r.status).toBe(400);
    expect(await eventCount()).toBe(before);
  });

  it('answers 413 for a 3 MiB body and records nothing', async () => {
    const before = await eventCount();
    const e = activeSub(newMember());
    (e.data.object as Record<string, unknown>)['padding'] = 'x'.repeat(3 * 1024 * 1024);
    const r = await h.post(e);
    expect(r.status).toBe(413);
    expect(await eventCount()).toBe(before);
  });

  it.each([
    ['an object that lacks what a handled type needs', (e: ReturnType<typeof activeSub>) => {
      delete (e.data.object as Record<string, unknown>)['status'];
    }],
    ['a subscription status Stripe adds next year', (e: ReturnType<typeof activeSub>) => {
      (e.data.object as Record<string, unknown>)['status'] = 'paused_for_review';
    }],
    ['an event without its data object', (e: ReturnType<typeof activeSub>) => {
      (e as { data: unknown }).data = { previous_attributes: {} };
    }],
  ])('keeps a verified event it cannot read (%s): 200, set aside with its reason, counted and alerted', async (_name, change) => {
    const e = activeSub(newMember());
    change(e);
    const setAsideBefore = await setAsideCount();
    const r = await h.post(e);
    expect(r).toEqual({ status: 200, body: expect.objectContaining({ outcome: 'set_aside', reason: expect.any(String) }) });
    const [row] = await h.db.query<{ outcome: string; outcome_detail: string }>(
      'SELECT outcome, outcome_detail FROM stripe_events WHERE id = $1',
      [e.id],
    );
    expect(row).toMatchObject({ outcome: 'set_aside', outcome_detail: expect.stringMatching(/status|data/) });
    expect(await setAsideCount()).toBe(setAsideBefore + 1);
    const alerts = await h.db.query('SELECT 1 FROM alerts WHERE key = $1', [`stripe-event-set-aside:${e.id}`]);
    expect(alerts).toHaveLength(1);
    // A redelivery changes nothing and raises no second alert.
    expect((await h.post(e)).body).toMatchObject({ outcome: 'set_aside' });
    expect(await h.db.query("SELECT 1 FROM alerts WHERE kind = 'stripe_event_set_aside' AND key = $1", [`stripe-event-set-aside:${e.id}`])).toHaveLength(1);
  });
});

async function setAsideCount(): Promise<number> {
  const text = await h.fetch('/metrics').then((res) => res.text());
  const m = /memberops_stripe_events_set_aside_total\{reason="unreadable"\} (\d+)/.exec(text);
  return Number(m?.[1] ?? 0);
}

describe('reading membership', () => {
  it('answers 404 for an unknown member and 400 for a malformed id, never 500', async () => {
    expect((await h.get('/members/cus_doesnotexist')).status).toBe(404);
    expect((await h.get('/members/cus_doesnotexist/access')).body).toMatchObject({ allowed: false });
    expect((await h.get('/members/cus_doesnotexist/access')).status).toBe(404);
    expect((await h.get(`/members/${encodeURIComponent("'; DROP TABLE memberships; --")}`)).status).toBe(400);
    expect((await h.get(`/members/${'a'.repeat(400)}/access`)).status).toBe(400);
    expect((await h.get('/members/cus_x/access?consistency=maybe')).status).toBe(400);
  });

  it('grants access by app user id when any of its Stripe customers has access, whichever changed last', async () => {
    const appUserId = `app-user-${Date.now()}`;
    const paying = newMember();
    const abandoned = newMember();
    await deliver(
      stripeEvent('checkout.session.completed', paying, { object: { client_reference_id: appUserId, payment_status: 'paid' } }),
    );
    await h.waitForStatus(paying.customerId, 'active');
    // A second checkout under the same app user creates another customer, which then ends without access (later).
    await deliver(
      stripeEvent('checkout.session.completed', abandoned, { object: { client_reference_id: appUserId, payment_status: 'paid' } }),
      stripeEvent('customer.subscription.deleted', abandoned, { object: { status: 'canceled' } }),
    );
    await h.waitForStatus(abandoned.customerId, 'canceled');
    const access = await h.get(`/members/${appUserId}/access`);
    expect(access).toEqual({ status: 200, body: expect.objectContaining({ status: 'active', allowed: true }) });
    expect((await h.get(`/members/${appUserId}`)).body).toMatchObject({ memberId: paying.customerId, allowed: true });
    // The customer's own id still answers for that customer alone.
    expect((await h.get(`/members/${abandoned.customerId}/access`)).body).toMatchObject({ allowed: false });

    // Once no customer has access, the most recent one answers.
    await deliver(stripeEvent('customer.subscription.deleted', paying, { object: { status: 'canceled' } }));
    await h.waitForStatus(paying.customerId, 'canceled');
    expect((await h.get(`/members/${appUserId}/access`)).body).toMatchObject({ allowed: false, status: 'canceled' });
  });

  it('answers health and readiness with the worker polling', async () => {
    expect((await h.get('/healthz')).body).toEqual({ status: 'ok' });
    const ready = await waitFor(async () => {
      const r = await h.get('/readyz?include=worker');
      return r.status === 200 ? r.body : undefined;
    });
    expect(ready.checks).toMatchObject({ postgres: { ok: true }, temporal: { ok: true }, worker: { ok: true } });
  });
});
