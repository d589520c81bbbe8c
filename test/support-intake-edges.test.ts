/**
 * Support intake at its edges: Intercom webhook signatures and documented payloads, request validation, and the
 * per-client rate limit of POST /support/requests (the flows themselves: support-flow.test.ts).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readIntercomNotification, verifyHubSignature } from '../api/routes/intercom-webhook';
import { signIntercomWebhook } from '../tools/testkit/fakes/fake-intercom';
import { conversationUserCreated, INTERCOM_FIXTURES } from './helpers/intercom-notifications';
import * as support from './helpers/support-stack';

support.useSupportStack();

describe('support intake edges', () => {
  it('refuses a webhook without a valid X-Hub-Signature (401), and acknowledges topics it does not handle', async () => {
    const m = await support.member();
    const conversationId = support.fake.createConversation({ contactId: m.contactId });
    const payload = conversationUserCreated(m, conversationId, 'How do I cancel?');

    expect((await support.postIntercom(payload, signIntercomWebhook(payload, 'not_the_secret'))).status).toBe(401);
    expect((await support.postIntercom(payload, null)).status).toBe(401);
    expect((await support.postIntercom(`${payload} `, signIntercomWebhook(payload, support.clientSecret))).status).toBe(401);
    expect(
      await support.h.db.query('SELECT 1 FROM support_requests WHERE conversation_id = $1', [conversationId]),
    ).toHaveLength(0);

    const other = JSON.stringify({ ...JSON.parse(payload), topic: 'contact.user.created' });
    expect(await support.postIntercom(other)).toEqual({
      status: 200,
      body: { received: true, ignored: 'topic contact.user.created is not handled' },
    });
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
    const r = await support.postSupport(body, clientIp);
    expect(r).toMatchObject({ status: 400, body: { error: 'invalid_request', field, message } });
  });

  it('limits each client to SUPPORT_RATE_LIMIT_PER_MINUTE requests a minute (429), without slowing other clients', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await support.postSupport({}, '203.0.113.7')).status);
    const limited = await support.postSupport({ body: 'How do I cancel my membership?' }, '203.0.113.7');
    expect(statuses).toEqual([400, 400, 400, 400, 400]);
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ error: 'rate_limited' });
    expect(limited.headers.get('ratelimit-policy')).toMatch(/q=5; w=60/);
    expect(limited.headers.get('ratelimit')).toMatch(/r=0/);

    // Another client, an unknown sender: answered in the HTTP response (there is no member to send it to).
    const other = await support.postSupport({ body: 'How do I cancel my membership?' }, '203.0.113.8');
    expect(other.status).toBe(202);
    expect(other.body).toMatchObject({ intent: 'cancellation', route: 'auto_reply', deliveredVia: 'response' });
    expect(other.body['reply']).toContain(support.CANCEL_PATH);
    expect(await support.finished(other.body['requestId'])).toMatchObject({
      outcome: 'answered_in_response',
      steps: { reply: 'in_response_only' },
    });
  });
});
