/**
 * CRM sync when Intercom misbehaves (429, 5xx, timeouts, 401, an outage), end to end against the local Intercom
 * stand-in: retries honour the server, permanent failures raise one alert, and the membership never waits for the CRM.
 */
import { memberWorkflowId } from '../workflows/messages';
import * as sync from './helpers/crm-sync';
import { waitFor } from './helpers/wait-for';

const stack = sync.crmSyncSuite();

describe('CRM sync to Intercom when Intercom fails', () => {
  it('waits out a 429 for the Retry-After time and then tags the member', async () => {
    const m = sync.member();
    stack.fake.fail({
      status: 429,
      retryAfterSeconds: 1,
      match: { method: 'POST', path: /^\/contacts\/[^/]+\/tags$/ },
    });
    await sync.deliver(sync.events.active(m));
    const { contact, crm } = await sync.waitForContact(
      m,
      (c) => stack.fake.tagsOf(c.id).includes('member_active'),
      'member_active',
    );

    const tagging = await sync.syncLog(m.customerId, 'tags.tagContact');
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
    expect(await sync.tagCallCounts('POST', contact.id)).toEqual({ member_active: 1 });
    // The lag counts the wait.
    expect(crm.lagMs).toBeGreaterThanOrEqual(1000);
  });

  it('retries two 500s and then creates the contact once', async () => {
    const m = sync.member();
    stack.fake.fail({ status: 500, times: 2, match: { method: 'POST', path: /^\/contacts$/ } });
    await sync.deliver(sync.events.checkout(m));
    const { crm } = await sync.waitForContact(m, sync.hasStatus('active'), 'status active');

    expect(
      (await sync.syncLog(m.customerId, 'contacts.create')).map((r) => [r.http_status, r.outcome, r.attempt]),
    ).toEqual([
      [500, 'retry', 1],
      [500, 'retry', 2],
      [200, 'ok', 3],
    ]);
    expect(sync.contactCreates(m.appUserId)).toEqual([500, 500, 200]);
    expect(crm.lagMs).toBeGreaterThanOrEqual(1500);
  });

  it('retries a call that times out', async () => {
    const m = sync.member();
    await sync.deliver(sync.events.checkout(m));
    const { contact } = await sync.waitForContact(m, sync.hasStatus('active'), 'status active');
    const before = (await sync.syncLog(m.customerId, 'contacts.update')).length;
    // The update takes effect but its answer comes after the client's 1.5 s timeout: the retry must redo it.
    stack.fake.delay(2500, { match: { method: 'PUT', path: new RegExp(`^/contacts/${contact.id}$`) } });
    await sync.deliver(sync.events.active(m, { cancel_at_period_end: true }));
    const updates = await waitFor(
      async () => {
        const rows = (await sync.syncLog(m.customerId, 'contacts.update')).slice(before);
        // Another effect of the same event may update the contact meanwhile: wait for the retry itself.
        return rows.length >= 2 && rows.some((r) => r.attempt === 2 && r.outcome === 'ok') ? rows : undefined;
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
    expect(updates.find((r) => r.attempt === 2)).toMatchObject({ http_status: 200, outcome: 'ok', attempt: 2 });
  });

  it('raises one alert for a 401, does not retry it, and leaves the membership alone', async () => {
    const m = sync.member();
    stack.fake.fail({ status: 401, times: 1000, match: { path: /^\/contacts/ } });
    try {
      await sync.deliver(sync.events.active(m));
      await stack.h.waitForStatus(m.customerId, 'active');
      // Both syncs of the transition (tags, then attributes) ran into the 401.
      const refused = await waitFor(async () => {
        const rows = await stack.db.query<{ key: string; http_status: number; attempt: number; outcome: string }>(
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
        const c = await sync.crmOf(m.customerId);
        return c?.lastOutcome === 'failed' ? c : undefined;
      });
      expect(crm).toMatchObject({ contactId: null, syncedAt: null });
    } finally {
      stack.fake.clearFaults();
    }
    const alerts = await stack.db.query<{ key: string; kind: string; message: string }>(
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
    expect(stack.logLines.some((l) => l.includes('"level":50') && l.includes(m.customerId))).toBe(true);
    expect((await stack.h.get(`/members/${m.customerId}/access`)).body).toMatchObject({
      status: 'active',
      allowed: true,
    });
    // The workflow goes on: a later event is applied as usual.
    await sync.deliver(sync.events.deleted(m));
    await stack.h.waitForStatus(m.customerId, 'canceled');
    const history = await stack.h.temporal.workflow.getHandle(memberWorkflowId(m.customerId)).fetchHistory();
    const text = JSON.stringify(history);
    expect(text).toContain('HTTP 401');
    expect(text).not.toContain(stack.token);
  });

  it('keeps state and access working while Intercom is down, and catches up when it is back', async () => {
    const m = sync.member();
    await sync.deliver(sync.events.checkout(m));
    await sync.waitForContact(m, sync.hasStatus('active'), 'status active');
    const before = (await sync.syncLog(m.customerId, 'contacts.update')).length;

    await stack.fake.down();
    try {
      await sync.deliver(sync.events.failed(m));
      await stack.h.waitForStatus(m.customerId, 'grace_period');
      expect((await stack.h.get(`/members/${m.appUserId}/access`)).body).toMatchObject({
        status: 'grace_period',
        allowed: true,
      });
      await sync.deliver(sync.events.deleted(m));
      await stack.h.waitForStatus(m.customerId, 'canceled');
      expect((await stack.h.get(`/members/${m.appUserId}/access`)).body).toMatchObject({
        status: 'canceled',
        allowed: false,
      });
      // Intercom stays down for several attempts of the sync; the sync.member's CRM status says so.
      await waitFor(async () => {
        const rows = (await sync.syncLog(m.customerId, 'contacts.update')).slice(before);
        return rows.filter((r) => r.http_status === 503 && r.outcome === 'retry').length >= 3 ? true : undefined;
      });
      expect((await sync.crmOf(m.customerId))?.lastOutcome).toBe('retry');
      expect((await stack.h.get(`/members/${m.customerId}/access`)).body).toMatchObject({ allowed: false });
    } finally {
      await stack.fake.up();
    }

    const { contact, crm } = await sync.waitForContact(
      m,
      // Tags are applied one call at a time: wait for the whole set, not the first tag of the step.
      (c) => sync.hasStatus('canceled')(c) && stack.fake.tagsOf(c.id).sort().join() === 'cancelled,payment_failed',
      'caught up to canceled',
      30_000,
    );
    expect(contact.custom_attributes).toMatchObject({ membership_status: 'canceled', access: false });
    expect(stack.fake.tagsOf(contact.id).sort()).toEqual(['cancelled', 'payment_failed']);
    expect(crm.lagMs).toEqual(expect.any(Number));
  });
});
