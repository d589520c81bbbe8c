/**
 * Support automation in Intercom conversations, end to end: Intercom webhooks → intake (classify, compose the reply,
 * record) → supportRequestWorkflow → the fake Intercom (replies, tags, assignments) and the member's workflow, on the
 * real Temporal dev server and PostgreSQL, with the real intercom-client and stripe clients talking to local fakes.
 * Every test that makes Intercom conversations lives here: the fake numbers them from one counter per process, so
 * another file's conversations would share ids (and dedupe keys) in the run's one database.
 */
import { signIntercomWebhook } from '../tools/testkit/fakes/fake-intercom';
import { conversationUserCreated, conversationUserReplied } from './helpers/intercom-notifications';
import {
  supportSuite,
  member,
  postIntercom,
  conversationJson,
  finished,
  alertsFor,
  TEAM_ID,
  clientSecret,
} from './helpers/support-stack';
import { waitFor } from './helpers/wait-for';

const stack = supportSuite();

describe('support automation in Intercom conversations', () => {
  it('answers a receipt request in the Intercom conversation with the hosted invoice URL', async () => {
    const m = await member();
    const conversationId = stack.fake.createConversation({ contactId: m.contactId });
    const r = await postIntercom(
      conversationUserCreated(m, conversationId, 'Hi, can you send me the receipt for my last payment?'),
    );

    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      intent: 'invoice_receipt',
      route: 'auto_reply',
      deliveredVia: 'intercom_conversation',
      duplicate: false,
    });
    // The link goes into the member's conversation (asserted below), never into the HTTP answer.
    expect(r.body).not.toHaveProperty('reply');
    expect(await finished(r.body['requestId'])).toMatchObject({ outcome: 'replied', steps: { reply: 'sent' } });
    const conversation = await conversationJson(conversationId);
    const replies = conversation.conversation_parts.conversation_parts.filter((p) => p.author.type === 'admin');
    expect(replies).toHaveLength(1);
    expect(replies[0]).toMatchObject({ part_type: 'comment' });
    expect(replies[0]?.body).toContain(m.invoiceUrl);
    expect(conversation.tags.tags).toEqual([]);
    expect(conversation.team_assignee_id).toBeNull();
  });

  it('routes a declined card from a member in past_due to the billing flow, with the card-update link and a notice from the member workflow', async () => {
    const m = await member({ pastDue: true });
    const conversationId = stack.fake.createConversation({ contactId: m.contactId });
    const r = await postIntercom(
      conversationUserCreated(m, conversationId, 'My card was declined, how do I update my card?'),
    );

    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ intent: 'billing', route: 'billing_flow', deliveredVia: 'intercom_conversation' });
    expect(JSON.stringify(r.body)).not.toMatch(/billing\.stripe\.com/);
    const done = await finished(r.body['requestId']);
    expect(done).toMatchObject({
      outcome: 'replied',
      steps: { reply: 'sent', handoff: `signaled member-${m.customerId}` },
    });
    // The member workflow sends one notice now, keyed by the request, with the open invoice and a card-update link.
    const key = `${m.customerId}:dunning:1:support:${r.body['requestId']}`;
    await waitFor(
      async () =>
        (await stack.h.db.query(`SELECT 1 FROM member_notices WHERE key = $1 AND status = 'sent'`, [key])).length === 1,
      { description: `notice ${key} to be sent` },
    );
    const notice = stack.fake.messagesTo(m.contactId).find((msg) => /still open/.test(msg.subject ?? ''));
    expect(notice?.body).toContain(`${m.invoiceUrl}-open`);
    expect(notice?.body).toMatch(/Update your card here: https:\/\/billing\.stripe\.com\//);
    const replies = (await conversationJson(conversationId)).conversation_parts.conversation_parts.filter(
      (p) => p.author.type === 'admin',
    );
    expect(replies.map((p) => p.body)).toEqual([
      expect.stringMatching(/https:\/\/billing\.stripe\.com\/p\/session\/test_\w+/),
    ]);
  });

  it('hands an unknown question to a person: tagged, assigned to the team inbox, one alert even when the webhook is delivered twice', async () => {
    const m = await member();
    const conversationId = stack.fake.createConversation({ contactId: m.contactId });
    const payload = conversationUserCreated(m, conversationId, "Do you have a recording of last week's workshop?");
    const first = await postIntercom(payload);
    const again = await postIntercom(payload);

    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ intent: 'other', route: 'human', duplicate: false });
    expect(first.body['reply']).toBeUndefined();
    expect(again.body).toMatchObject({ requestId: first.body['requestId'], route: 'human', duplicate: true });
    const done = await finished(first.body['requestId']);
    expect(done).toMatchObject({
      outcome: 'escalated',
      steps: {
        tag: 'tagged support_other',
        assign: `assigned to team ${TEAM_ID}`,
        alert: `raised support:conversation:${conversationId}`,
      },
    });
    const conversation = await conversationJson(conversationId);
    expect(conversation.tags.tags.map((t) => t.name)).toEqual(['support_other']);
    expect(conversation.team_assignee_id).toBe(Number(TEAM_ID));
    expect(conversation.conversation_parts.conversation_parts.filter((p) => p.part_type === 'comment')).toHaveLength(0);
    expect(stack.fake.countCalls('POST', new RegExp(`^/conversations/${conversationId}/parts$`))).toBe(1);
    const alerts = await alertsFor(conversationId);
    expect(alerts).toEqual([{ kind: 'support_needs_human', message: expect.stringContaining('other') }]);
    // The alert says which rules decided, never what the member wrote.
    expect(alerts[0]?.message).not.toContain("last week's");
    const requests = await stack.h.db.query('SELECT 1 FROM support_requests WHERE conversation_id = $1', [
      conversationId,
    ]);
    expect(requests).toHaveLength(1);
  });

  it('retries the reply while Intercom fails, and posts it once', async () => {
    const m = await member();
    const conversationId = stack.fake.createConversation({ contactId: m.contactId });
    stack.fake.fail({
      status: 503,
      times: 2,
      match: { method: 'POST', path: new RegExp(`^/conversations/${conversationId}/reply$`) },
    });
    const r = await postIntercom(
      conversationUserCreated(m, conversationId, 'Could you send me the invoice for March?'),
    );
    expect(r.body).toMatchObject({ intent: 'invoice_receipt', route: 'auto_reply' });

    expect(await finished(r.body['requestId'])).toMatchObject({ outcome: 'replied', steps: { reply: 'sent' } });
    const log = await stack.h.db.query<{ http_status: number; outcome: string }>(
      `SELECT http_status, outcome FROM crm_sync_log WHERE key = $1 AND operation = 'conversations.reply' ORDER BY id`,
      [`support:${r.body['requestId']}`],
    );
    expect(log).toEqual([
      { http_status: 503, outcome: 'retry' },
      { http_status: 503, outcome: 'retry' },
      { http_status: 200, outcome: 'ok' },
    ]);
    const replies = (await conversationJson(conversationId)).conversation_parts.conversation_parts.filter(
      (p) => p.author.type === 'admin',
    );
    expect(replies).toHaveLength(1);
  });

  it('hands a member who writes again in the same conversation after an automatic reply to a person', async () => {
    const m = await member();
    const conversationId = stack.fake.createConversation({ contactId: m.contactId });
    const first = 'Where can I find my invoice?';
    const auto = await postIntercom(conversationUserCreated(m, conversationId, first));
    expect(auto.body).toMatchObject({ intent: 'invoice_receipt', route: 'auto_reply' });
    await finished(auto.body['requestId']);

    const followUp = await postIntercom(
      conversationUserReplied(
        m,
        conversationId,
        { first, parts: stack.fake.conversation(conversationId)?.parts ?? [] },
        'Sorry, where exactly is the invoice? I cannot find it',
      ),
    );
    expect(followUp.status).toBe(200);
    expect(followUp.body).toMatchObject({ intent: 'invoice_receipt', route: 'human', duplicate: false });
    const done = await finished(followUp.body['requestId']);
    expect(done.reason).toMatch(/wrote again after 1 automatic reply/);
    expect(done).toMatchObject({ outcome: 'escalated', steps: { tag: 'tagged support_invoice_receipt' } });
    const conversation = await conversationJson(conversationId);
    expect(conversation.team_assignee_id).toBe(Number(TEAM_ID));
    expect(
      conversation.conversation_parts.conversation_parts.filter(
        (p) => p.author.type === 'admin' && p.part_type === 'comment',
      ),
    ).toHaveLength(1);
    expect(await alertsFor(conversationId)).toHaveLength(1);
  });

  it('refuses a webhook without a valid X-Hub-Signature (401), and acknowledges topics it does not handle', async () => {
    const m = await member();
    const conversationId = stack.fake.createConversation({ contactId: m.contactId });
    const payload = conversationUserCreated(m, conversationId, 'How do I cancel?');

    expect((await postIntercom(payload, signIntercomWebhook(payload, 'not_the_secret'))).status).toBe(401);
    expect((await postIntercom(payload, null)).status).toBe(401);
    expect((await postIntercom(`${payload} `, signIntercomWebhook(payload, clientSecret))).status).toBe(401);
    expect(
      await stack.h.db.query('SELECT 1 FROM support_requests WHERE conversation_id = $1', [conversationId]),
    ).toHaveLength(0);

    const other = JSON.stringify({ ...JSON.parse(payload), topic: 'contact.user.created' });
    expect(await postIntercom(other)).toEqual({
      status: 200,
      body: { received: true, ignored: 'topic contact.user.created is not handled' },
    });
  });
});
