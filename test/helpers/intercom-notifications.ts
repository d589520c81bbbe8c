/**
 * Intercom webhook notifications for tests, built from Intercom's documented `conversation.user.created` example
 * (test/fixtures/intercom, copied from ../shared/fixtures) and re-addressed to a test's contact and conversation.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FakeConversationPart } from '../../tools/testkit/fakes/fake-intercom';

export const INTERCOM_FIXTURES = path.join(__dirname, '..', 'fixtures', 'intercom');

/** The member as Intercom knows them: the contact, its external_id (the app user id) and email. */
export interface IntercomSender {
  contactId: string;
  appUserId: string;
  email: string;
}

const documented = (): Record<string, any> =>
  JSON.parse(readFileSync(path.join(INTERCOM_FIXTURES, 'conversation.user.created.json'), 'utf8'));

/** The member's first message in a conversation. */
export function conversationUserCreated(who: IntercomSender, conversationId: string, text: string): string {
  const n = documented();
  n['id'] = `notif_${randomBytes(8).toString('hex')}`;
  const item = n['data']['item'];
  Object.assign(item, {
    id: conversationId,
    open: true,
    state: 'open',
    admin_assignee_id: null,
    team_assignee_id: null,
    contacts: { type: 'contact.list', contacts: [{ type: 'contact', id: who.contactId, external_id: who.appUserId }] },
    conversation_parts: { type: 'conversation_part.list', conversation_parts: [], total_count: 0 },
  });
  Object.assign(item.source, {
    id: `${conversationId}0`,
    delivered_as: 'customer_initiated',
    body: `<p>${text}</p>`,
    author: { type: 'user', id: who.contactId, name: null, email: who.email },
  });
  return JSON.stringify(n);
}

/** A later `conversation.user.replied`: the conversation's parts so far (replies included), then the member's new one. */
export function conversationUserReplied(
  who: IntercomSender,
  conversationId: string,
  earlier: { first: string; parts: readonly FakeConversationPart[] },
  text: string,
): string {
  const n = JSON.parse(conversationUserCreated(who, conversationId, earlier.first)) as Record<string, any>;
  n['topic'] = 'conversation.user.replied';
  const parts = earlier.parts.map((p) => ({
    type: 'conversation_part',
    id: p.id,
    part_type: p.part_type,
    body: p.body,
    created_at: p.created_at,
    author: p.author,
  }));
  const last = parts.at(-1)?.created_at ?? Math.floor(Date.now() / 1000);
  parts.push({
    type: 'conversation_part',
    id: `${conversationId}-user-${parts.length + 1}`,
    part_type: 'comment',
    body: `<p>${text}</p>`,
    created_at: last + 1,
    author: { type: 'user', id: who.contactId },
  });
  n['data']['item']['conversation_parts'] = {
    type: 'conversation_part.list',
    conversation_parts: parts,
    total_count: parts.length,
  };
  return JSON.stringify(n);
}
