/** Intercom conversations: admin replies and assignments (support hand-over). */
import type { IntercomClient } from 'intercom-client';
import type { CallResult, CallScope, IntercomCall } from './calls';

export type Assignee = { type: 'team' | 'admin'; id: string };

export interface IntercomConversations {
  /** Posts an admin comment (HTML); Intercom replies take no idempotency key. */
  reply(scope: CallScope, conversationId: string, adminId: string, html: string): Promise<CallResult<unknown>>;
  assign(scope: CallScope, conversationId: string, adminId: string, assignee: Assignee): Promise<void>;
}

export function createIntercomConversations({
  client,
  call,
}: {
  client: IntercomClient;
  call: IntercomCall;
}): IntercomConversations {
  return {
    reply: (scope, conversationId, adminId, html) =>
      call(scope, 'conversations.reply', () =>
        client.conversations
          .reply({
            conversation_id: conversationId,
            body: { message_type: 'comment', type: 'admin', admin_id: adminId, body: html },
          })
          .withRawResponse(),
      ),
    async assign(scope, conversationId, adminId, assignee) {
      await call(scope, 'conversations.assign', () =>
        client.conversations
          .manage({
            conversation_id: conversationId,
            body: { message_type: 'assignment', type: assignee.type, admin_id: adminId, assignee_id: assignee.id },
          })
          .withRawResponse(),
      );
    },
  };
}
