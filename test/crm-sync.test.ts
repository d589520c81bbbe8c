/**
 * CRM sync against a local Intercom stand-in that the real intercom-client talks to over HTTP, driven end to end:
 * signed Stripe webhooks → API → member workflow → syncCrmContact activity → fake Intercom, on the real Temporal
 * dev server and PostgreSQL of the test run. The contact, its tags and messages, and what is never written down.
 */
import { CRM_ATTRIBUTES } from '../activities/crm-sync';
import { memberWorkflowId, membershipQuery } from '../workflows/messages';
import {
  crmSyncSuite,
  contactCreates,
  deliver,
  events,
  hasStatus,
  member,
  syncLog,
  tagCallCounts,
  waitForContact,
} from './helpers/crm-sync';
import { waitFor } from './helpers/wait-for';

const stack = crmSyncSuite();

describe('CRM sync to Intercom', () => {
  it('creates one contact with the membership attributes and tags it member_active after checkout', async () => {
    const m = member();
    await deliver(events.checkout(m), events.created(m), events.paid(m));
    await stack.h.waitForStatus(m.customerId, 'active');
    const { contact, crm } = await waitForContact(
      m,
      (c) =>
        hasStatus('active')(c) &&
        c.custom_attributes['current_period_end'] !== null &&
        stack.fake.tagsOf(c.id).includes('member_active'),
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
    expect(stack.fake.tagsOf(contact.id)).toEqual(['member_active']);
    expect(contactCreates(m.appUserId)).toEqual([200]);
    const custom = stack.fake.dataAttributes().filter((a) => a.custom);
    expect(custom.map((a) => a.name).sort()).toEqual(CRM_ATTRIBUTES.map((a) => a.name).sort());

    // The contact id is in the workflow state, the projection and the member's read model.
    expect(crm).toMatchObject({ contactId: contact.id, lastOutcome: 'ok', syncedAt: expect.any(String) });
    const strong = await stack.h.temporal.workflow.getHandle(memberWorkflowId(m.customerId)).query(membershipQuery);
    expect(strong.crm.contactId).toBe(contact.id);
    await waitFor(async () => {
      const [row] = await stack.db.query<{ crm_contact_id: string | null }>(
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
      (c) => hasStatus('active')(c) && stack.fake.tagsOf(c.id).includes('payment_recovered'),
      'recovered to active',
    );
    // All syncs of the member are done: one per transition with tags, plus attribute-only ones.
    await waitFor(async () => {
      const [row] = await stack.db.query<{ n: string }>(`SELECT count(*) AS n FROM crm_tag_ops WHERE key = $1`, [
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
    const ops = await stack.db.query<{ key: string; tag: string; op: string }>(
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

  it('removes payment_failed once the member has paid again, and tells the member through Intercom', async () => {
    const m = member();
    await deliver(events.checkout(m));
    await waitForContact(m, hasStatus('active'), 'status active');
    await deliver(events.failed(m));
    await waitForContact(m, (c) => stack.fake.tagsOf(c.id).includes('payment_failed'), 'payment_failed');
    await deliver(events.paid(m));
    const { contact, crm } = await waitForContact(
      m,
      (c) => hasStatus('active')(c) && !stack.fake.tagsOf(c.id).includes('payment_failed'),
      'payment_failed removed',
    );
    expect(stack.fake.tagsOf(contact.id).sort()).toEqual(['member_active', 'payment_recovered']);
    expect(crm.lagMs).toBeLessThan(2000);

    const messages = await waitFor(() => {
      const sent = stack.fake.messagesTo(contact.id);
      return sent.length >= 2 ? sent : undefined;
    });
    expect(messages.map((x) => [x.message_type, x.fromAdminId])).toEqual([
      ['email', stack.fake.adminId],
      ['email', stack.fake.adminId],
    ]);
  });

  it('sends the bearer token on every call and never writes it to logs, the sync log or alerts', async () => {
    const m = member();
    const from = stack.fake.calls.length;
    // A failed call too: error paths are where a token would leak.
    stack.fake.fail({ status: 503, match: { method: 'POST', path: /^\/contacts\/[^/]+\/tags$/ } });
    await deliver(events.checkout(m), events.failed(m));
    const { contact } = await waitForContact(
      m,
      (c) => stack.fake.tagsOf(c.id).includes('payment_failed'),
      'payment_failed',
    );
    await waitFor(() => stack.fake.messagesTo(contact.id).length === 1);
    // The fake applies a tag before its answer reaches the sync log: wait for the log row too.
    const tagging = await waitFor(async () => {
      const rows = await syncLog(m.customerId, 'tags.tagContact');
      return rows.length >= 3 ? rows : undefined;
    });

    // The notice and the sync raced for the contact: still one, under the app user id.
    expect([contactCreates(m.appUserId), contactCreates(m.customerId)]).toEqual([[200], []]);
    const calls = stack.fake.calls.slice(from);
    expect(calls.map((c) => c.authorization)).toEqual(calls.map(() => `Bearer ${stack.token}`));
    expect(calls.some((c) => c.status === 503)).toBe(true);
    expect(stack.logLines.some((l) => l.includes(m.customerId))).toBe(true);
    expect(stack.logLines.join('\n')).not.toContain(stack.token);
    const leaks = await stack.db.query(
      `SELECT 'crm_sync_log' AS t FROM crm_sync_log l WHERE l::text LIKE '%' || $1 || '%'
       UNION ALL SELECT 'alerts' FROM alerts a WHERE a::text LIKE '%' || $1 || '%'
       UNION ALL SELECT 'crm_sync_state' FROM crm_sync_state s WHERE s::text LIKE '%' || $1 || '%'`,
      [stack.token],
    );
    expect(leaks).toEqual([]);
    expect(tagging.map((r) => r.http_status)).toEqual([503, 200, 200]);
  });
});
