/**
 * POST /webhooks/intercom: verify `X-Hub-Signature` on the raw body, then turn a member's new conversation or reply
 * into a support message. Other topics are acknowledged and ignored.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import express, { Router } from 'express';
import { z } from 'zod';
import { capText, MAX_HTML_CHARS, MAX_MESSAGE_CHARS, trimLineEnds } from '../../lib/free-text';
import { BadRequestError } from '../errors';
import { asUnverified, isVerifiedMemberConversation } from '../intercom-identity';
import { processSupportMessage, type SupportIntakeDeps, type SupportMessage } from '../support-intake';
import { WEBHOOK_BODY_LIMIT } from './stripe-webhook';

/** `sha1=` + HMAC-SHA1 of the exact bytes, keyed by the Intercom app's client secret, compared in constant time. */
export function verifyHubSignature(raw: Buffer, header: string | undefined, clientSecret: string): boolean {
  if (!header) return false;
  const expected = Buffer.from(`sha1=${createHmac('sha1', clientSecret).update(raw).digest('hex')}`);
  const given = Buffer.from(header.trim());
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const id = z.union([z.string().min(1), z.number()]).transform(String);
const author = z.object({ type: z.string(), id: id.nullish(), email: z.string().nullish() }).loose();
const part = z
  .object({
    id,
    part_type: z.string().nullish(),
    body: z.string().nullish(),
    created_at: z.number().nullish(),
    author: author.nullish(),
  })
  .loose();
const conversationSchema = z
  .object({
    id,
    source: z
      .object({ id: id.nullish(), subject: z.string().nullish(), body: z.string().nullish(), author: author.nullish() })
      .loose()
      .nullish(),
    contacts: z
      .object({ contacts: z.array(z.object({ id: z.string(), external_id: z.string().nullish() }).loose()) })
      .loose()
      .nullish(),
    conversation_parts: z
      .object({ conversation_parts: z.array(part) })
      .loose()
      .nullish(),
  })
  .loose();
type Conversation = z.infer<typeof conversationSchema>;
type Author = z.infer<typeof author>;

const notificationSchema = z
  .object({ id: z.string().min(1), topic: z.string().min(1), data: z.object({ item: z.unknown() }).loose() })
  .loose();

/**
 * Intercom bodies are HTML: paragraphs and line breaks become newlines, tags go, the common entities are decoded.
 * The HTML is capped first and every pattern is linear (a tag cannot contain `<`, line ends are trimmed without a
 * regular expression): a 1 MiB body of `<` or of spaces costs no more than a 1 MiB body of letters.
 */
export function htmlToText(html: string): string {
  const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", apos: "'", nbsp: ' ' };
  const text = capText(html, MAX_HTML_CHARS)
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/(p|div|li|h[1-6]|blockquote)>/gi, '\n')
    .replace(/<[^<>]*>/g, '')
    .replace(/&(amp|lt|gt|quot|#39|apos|nbsp);/g, (_m, name: string) => entities[name] ?? '');
  return capText(trimLineEnds(text).replace(/\n{3,}/g, '\n\n').trim(), MAX_MESSAGE_CHARS);
}

/** The sender's email, only when the author is the member (an admin's address is not the member's). */
const memberEmail = (a: Author | null | undefined): string | undefined =>
  a && a.type !== 'admin' && a.type !== 'bot' && a.email ? a.email : undefined;

function base(c: Conversation): Omit<SupportMessage, 'dedupeKey' | 'body'> {
  const contact = c.contacts?.contacts[0];
  return {
    source: 'intercom',
    conversationId: c.id,
    contactId: contact?.id,
    externalId: contact?.external_id ?? undefined,
    subject: c.source?.subject ? htmlToText(c.source.subject) || undefined : undefined,
  };
}

/** A topic's message, or undefined when the notification carries no member message to answer. */
type TopicHandler = (c: Conversation, notificationId: string) => SupportMessage | undefined;

const TOPICS: Record<string, TopicHandler> = {
  'conversation.user.created': (c, notificationId) => {
    const body = htmlToText(c.source?.body ?? '');
    if (!body) return undefined;
    const partId = c.source?.id;
    return {
      ...base(c),
      dedupeKey: partId ? `intercom:${c.id}:${partId}` : `intercom:notification:${notificationId}`,
      email: memberEmail(c.source?.author),
      body,
    };
  },
  'conversation.user.replied': (c) => {
    const parts = c.conversation_parts?.conversation_parts ?? [];
    const fromMember = parts.filter((p) => p.author && p.author.type !== 'admin' && p.author.type !== 'bot');
    // The newest part the member wrote (Intercom lists them oldest first; created_at decides when present).
    const newest = [...fromMember].sort((a, b) => (a.created_at ?? 0) - (b.created_at ?? 0)).at(-1);
    const body = htmlToText(newest?.body ?? '');
    if (!newest || !body) return undefined;
    return {
      ...base(c),
      dedupeKey: `intercom:${c.id}:${newest.id}`,
      email: memberEmail(newest.author) ?? memberEmail(c.source?.author),
      body,
    };
  },
};

/** What a verified notification asks of memberops; pure, so the documented payloads can be tested without HTTP. */
export type IntercomNotificationOutcome =
  | { kind: 'message'; message: SupportMessage }
  | { kind: 'ignored'; reason: string }
  | { kind: 'malformed'; message: string };

export function readIntercomNotification(json: unknown): IntercomNotificationOutcome {
  const notification = notificationSchema.safeParse(json);
  if (!notification.success) {
    const issue = notification.error.issues[0];
    return { kind: 'malformed', message: `${issue?.path.join('.') || 'notification'}: ${issue?.message}` };
  }
  const { id: notificationId, topic, data } = notification.data;
  const handler = TOPICS[topic];
  if (!handler) return { kind: 'ignored', reason: `topic ${topic} is not handled` };
  const conversation = conversationSchema.safeParse(data.item);
  if (!conversation.success) {
    const issue = conversation.error.issues[0];
    return { kind: 'malformed', message: `data.item.${issue?.path.join('.')}: ${issue?.message}` };
  }
  const message = handler(conversation.data, notificationId);
  return message ? { kind: 'message', message } : { kind: 'ignored', reason: 'no member message in the notification' };
}

export function intercomWebhookRouter(deps: SupportIntakeDeps & { clientSecret?: string }): Router {
  const router = Router();
  router.post('/webhooks/intercom', express.raw({ type: () => true, limit: WEBHOOK_BODY_LIMIT }), async (req, res) => {
    if (!deps.clientSecret) {
      // Nothing can be verified: refuse as a server-side problem, so Intercom keeps the deliveries and retries them.
      res.status(503).json({ error: 'not_configured', message: 'INTERCOM_CLIENT_SECRET is not set' });
      return;
    }
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (!verifyHubSignature(raw, req.header('x-hub-signature'), deps.clientSecret)) {
      res.status(401).json({ error: 'bad_signature', message: 'X-Hub-Signature is missing or does not match' });
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new BadRequestError('malformed_body', 'body is not valid JSON');
    }
    const read = readIntercomNotification(json);
    if (read.kind === 'malformed') throw new BadRequestError('malformed_notification', read.message);
    if (read.kind === 'ignored') {
      res.status(200).json({ received: true, ignored: read.reason });
      return;
    }
    const message = isVerifiedMemberConversation(json) ? read.message : asUnverified(read.message);
    const { requestId, intent, route, deliveredVia, duplicate } = await processSupportMessage(deps, message);
    // The reply went into the conversation (or to a person): the answer says what happened, not what was sent.
    res.status(200).json({ received: true, duplicate, requestId, intent, route, deliveredVia });
  });
  return router;
}
