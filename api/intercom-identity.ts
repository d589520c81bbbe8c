/**
 * Whether an Intercom conversation is a member's (issue 10): its author is a `user` (not a lead or visitor) and the
 * contact carries an `external_id`, which the workspace only accepts from the app through Messenger identity
 * verification (the JWT of GET /members/:id/messenger). Anything else is a stranger's claim.
 */
import { z } from 'zod';
import type { SupportMessage } from './support-intake';

const author = z.object({ type: z.string() }).loose();
const item = z
  .object({
    source: z.object({ author: author.nullish() }).loose().nullish(),
    contacts: z
      .object({ contacts: z.array(z.object({ external_id: z.string().nullish() }).loose()) })
      .loose()
      .nullish(),
    conversation_parts: z
      .object({ conversation_parts: z.array(z.object({ author: author.nullish(), created_at: z.number().nullish() }).loose()) })
      .loose()
      .nullish(),
  })
  .loose();
const notification = z.object({ topic: z.string(), data: z.object({ item }).loose() }).loose();

/** The author of the message the notification carries: the conversation's opener, or the newest non-admin part. */
function messageAuthorType(n: z.infer<typeof notification>): string | undefined {
  const c = n.data.item;
  if (n.topic === 'conversation.user.replied') {
    const parts = (c.conversation_parts?.conversation_parts ?? []).filter(
      (p) => p.author && p.author.type !== 'admin' && p.author.type !== 'bot',
    );
    return [...parts].sort((a, b) => (a.created_at ?? 0) - (b.created_at ?? 0)).at(-1)?.author?.type;
  }
  return c.source?.author?.type;
}

export function isVerifiedMemberConversation(json: unknown): boolean {
  const n = notification.safeParse(json);
  if (!n.success) return false;
  const externalId = n.data.data.item.contacts?.contacts[0]?.external_id;
  return messageAuthorType(n.data) === 'user' && Boolean(externalId);
}

/** An unverified sender's message: nothing it claims ties it to a member, and a person answers it. */
export function asUnverified(message: SupportMessage): SupportMessage {
  const { externalId: _externalId, email: _email, ...rest } = message;
  return { ...rest, unverifiedSender: true };
}
