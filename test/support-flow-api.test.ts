/**
 * Support requests through POST /support/requests, the support history of a member, and the documented Intercom
 * webhook payload, end to end on the real Temporal dev server and PostgreSQL. No Intercom conversations here (see
 * support-flow.test.ts).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readIntercomNotification, verifyHubSignature } from '../api/routes/intercom-webhook';
import type { SupportHistoryEntry } from '../api/support-section';
import { INTERCOM_FIXTURES } from './helpers/intercom-notifications';
import { supportSuite, member, postSupport, finished, LOGIN_URL, CANCEL_PATH } from './helpers/support-stack';

const stack = supportSuite();

describe('support automation through the API', () => {
  it("answers a login problem with the sign-in instructions and the member's actual access state", async () => {
    const m = await member({ pastDue: true });
    const r = await postSupport({ memberId: m.appUserId, body: "I can't log in, how do I sign in?" }, '198.51.100.10');

    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ intent: 'account_access', route: 'auto_reply', deliveredVia: 'member_channel' });
    expect(r.body).not.toHaveProperty('reply');
    // No conversation: the reply reaches the member through the messenger (an Intercom message to the contact).
    expect(await finished(r.body['requestId'])).toMatchObject({
      outcome: 'replied',
      steps: { reply: 'sent (intercom)' },
    });
    const sent = stack.fake.messagesTo(m.contactId).filter((msg) => msg.body.includes(LOGIN_URL));
    expect(sent).toHaveLength(1);
    expect(sent[0]?.body).toContain('Your membership is on hold because a payment did not go through.');
    expect(sent[0]?.body).toContain('Access comes back as soon as the payment goes through');
  });

  it('tells a member whose membership renews the day it renews, from the dates Stripe sent', async () => {
    const m = await member();
    // The end of the paid period as the projection holds it from the subscription event (the test's Stripe sends one).
    const periodEnd = (await stack.h.get(`/members/${m.customerId}`)).body.currentPeriodEnd as string;
    expect(periodEnd).toEqual(expect.any(String));
    const day = new Date(periodEnd).toLocaleDateString('en-GB', {
      day: 'numeric',
      month: 'long',
      year: 'numeric',
      timeZone: 'UTC',
    });
    const r = await postSupport({ memberId: m.appUserId, body: 'Is my membership still active?' }, '198.51.100.11');
    expect(r.body).toMatchObject({ intent: 'membership_status', route: 'auto_reply' });
    await finished(r.body['requestId']);
    const sent = stack.fake.messagesTo(m.contactId);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.body).toContain('Your membership is active. You have full access to the community.');
    expect(sent[0]?.body).toContain(`It renews automatically on ${day}.`);
  });

  it('shows the support history, with the rules that decided, in GET /members/:id', async () => {
    const m = await member({ invoice: false });
    stack.stripeApi.seedInvoice({ id: `in_${m.customerId}`, customer: m.customerId, hosted_invoice_url: m.invoiceUrl });
    // No invoice in the projection: the reply takes the newest one from the Stripe API.
    const receipt = await postSupport(
      { email: m.email, subject: 'Receipt', body: 'Please send me my receipt' },
      '198.51.100.20',
    );
    expect(receipt.body).toMatchObject({
      intent: 'invoice_receipt',
      route: 'auto_reply',
      deliveredVia: 'member_channel',
    });
    expect(receipt.body).not.toHaveProperty('reply');
    await finished(receipt.body['requestId']);
    // Identified by email only: the link went to the member's own contact, not to whoever asked.
    expect(stack.fake.messagesTo(m.contactId).filter((msg) => msg.body.includes(m.invoiceUrl))).toHaveLength(1);
    const cancel = await postSupport(
      { memberId: m.customerId, body: 'How do I cancel my membership?' },
      '198.51.100.20',
    );
    expect(cancel.body).toMatchObject({ intent: 'cancellation', route: 'human' });
    await finished(cancel.body['requestId']);

    const support = (await stack.h.get(`/members/${m.customerId}`)).body.support as SupportHistoryEntry[];
    expect(support).toEqual([
      expect.objectContaining({
        requestId: receipt.body['requestId'],
        source: 'api',
        intent: 'invoice_receipt',
        route: 'auto_reply',
        matched: expect.arrayContaining([{ intent: 'invoice_receipt', rule: 'receipt*', weight: 3 }]),
        reply: expect.stringContaining(m.invoiceUrl),
        outcome: 'replied',
      }),
      expect.objectContaining({
        requestId: cancel.body['requestId'],
        intent: 'cancellation',
        route: 'human',
        reason: expect.stringMatching(/wrote again after 1 automatic reply/),
        reply: null,
        outcome: 'escalated',
      }),
    ]);
    expect(support[0]?.at).toEqual(expect.any(String));
  });

  it('verifies and reads the notification exactly as Intercom documents and signs it', () => {
    const raw = readFileSync(path.join(INTERCOM_FIXTURES, 'conversation.user.created.json'));
    const signature = readFileSync(
      path.join(INTERCOM_FIXTURES, 'conversation.user.created.X-Hub-Signature.txt'),
      'utf8',
    ).trim();
    expect(verifyHubSignature(raw, signature, 'test_client_secret')).toBe(true);
    expect(verifyHubSignature(raw, signature, 'another_secret')).toBe(false);
    // The author of the documented example is an admin: their address is not taken for the member's.
    expect(readIntercomNotification(JSON.parse(raw.toString('utf8')))).toEqual({
      kind: 'message',
      message: {
        source: 'intercom',
        dedupeKey: 'intercom:525:403918350',
        conversationId: '525',
        contactId: '6762f15b1bb69f9f2193bbbc',
        externalId: '70',
        body: 'this is the message body',
      },
    });
  });

  it.each([
    ['no body', {}, 'body', 'is required', '198.51.100.31'],
    ['a blank body', { body: '   ' }, 'body', 'is required', '198.51.100.32'],
    [
      'a body over 10,000 characters',
      { body: 'x'.repeat(10_001) },
      'body',
      'is longer than 10,000 characters',
      '198.51.100.33',
    ],
    [
      'a malformed email',
      { body: 'Where is my invoice?', email: 'not-an-email' },
      'email',
      'is not a valid email address',
      '198.51.100.34',
    ],
    [
      'a malformed member id',
      { body: 'Where is my invoice?', memberId: 'no spaces' },
      'memberId',
      'is not a valid member id',
      '198.51.100.35',
    ],
  ])('refuses a request with %s with 400 naming the field', async (_case, body, field, message, clientIp) => {
    const r = await postSupport(body, clientIp);
    expect(r).toMatchObject({ status: 400, body: { error: 'invalid_request', field, message } });
  });

  it('limits each client to SUPPORT_RATE_LIMIT_PER_MINUTE requests a minute (429), without slowing other clients', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await postSupport({}, '203.0.113.7')).status);
    const limited = await postSupport({ body: 'How do I cancel my membership?' }, '203.0.113.7');
    expect(statuses).toEqual([400, 400, 400, 400, 400]);
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ error: 'rate_limited' });
    expect(limited.headers.get('ratelimit-policy')).toMatch(/q=5; w=60/);
    expect(limited.headers.get('ratelimit')).toMatch(/r=0/);

    // Another client, an unknown sender: answered in the HTTP response (there is no member to send it to).
    const other = await postSupport({ body: 'How do I cancel my membership?' }, '203.0.113.8');
    expect(other.status).toBe(202);
    expect(other.body).toMatchObject({ intent: 'cancellation', route: 'auto_reply', deliveredVia: 'response' });
    expect(other.body['reply']).toContain(CANCEL_PATH);
    expect(await finished(other.body['requestId'])).toMatchObject({
      outcome: 'answered_in_response',
      steps: { reply: 'in_response_only' },
    });
  });
});
