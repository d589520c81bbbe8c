/** Intercom admin-initiated messages (in-app or email), optionally opening a conversation with the contact. */
import { now, type Json } from '../scaffold';
import { ApiError, mustAdmin, ok, str, type IntercomRoute } from './common';
import type { FakeMessage, IntercomWorkspace } from './workspace';

export function messageRoutes(ws: IntercomWorkspace): IntercomRoute[] {
  return [
    [
      'POST',
      /^\/messages$/,
      (_p, b) => {
        const from = (b.from ?? {}) as Json;
        const to = (b.to ?? {}) as Json;
        const type = b.message_type;
        if (type !== 'inapp' && type !== 'email')
          throw new ApiError(400, 'parameter_invalid', 'message_type must be inapp or email');
        if (from.type !== 'admin') throw new ApiError(400, 'parameter_invalid', 'from.type must be admin');
        if (!str(b.body)) throw new ApiError(400, 'parameter_invalid', 'body is required');
        if (type === 'email' && !str(b.subject))
          throw new ApiError(400, 'parameter_invalid', 'subject is required for email messages');
        if (!['user', 'lead', 'contact'].includes(String(to.type)))
          throw new ApiError(400, 'parameter_invalid', 'to.type must be user, lead or contact');
        const fromAdminId = mustAdmin(from.id);
        const contact = ws.mustContact(str(to.id));
        const conversationId =
          b.create_conversation_without_contact_reply === true
            ? ws.createConversation({ contactId: contact.id, body: String(b.body), subject: str(b.subject) })
            : null;
        const m: FakeMessage = {
          id: ws.nextId(403918000),
          message_type: type,
          subject: str(b.subject) ?? null,
          body: String(b.body),
          fromAdminId,
          to: { type: String(to.type), id: contact.id },
          conversationId,
          created_at: now(),
        };
        ws.messages.push(m);
        return ok({
          type: 'admin_message',
          id: m.id,
          created_at: m.created_at,
          subject: m.subject ?? '',
          body: m.body,
          message_type: m.message_type,
          ...(conversationId ? { conversation_id: conversationId } : {}),
        });
      },
    ],
  ];
}
