/**
 * The I/O of one support request: the automatic reply (in the Intercom conversation, or to the member through the
 * workspace's member messages), the hand-over of a conversation to a person (tag with the intent, assign to the team inbox), one
 * founder alert, and the outcome. Activities read the request from `support_requests`, so the reply (it may carry a
 * Billing Portal link) and the member's data stay out of workflow history. Every Intercom call goes through the
 * workspace's one door: logged in `crm_sync_log`, classified for Temporal, token never logged.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { Db } from '../lib/db';
import type { Logger } from '../lib/logger';
import type { SupportOutcome, SupportSteps } from '../workflows/support-messages';
import { toActivityFailure } from './failures';
import type { CallScope } from './intercom/calls';
import type { MemberMessages } from './intercom/messages';
import type { IntercomWorkspace } from './intercom/workspace';

export interface SupportActivityDeps {
  db: Db;
  log: Logger;
  /** Where replies to members without a conversation go: the workspace's messages, or the log. */
  messages: MemberMessages;
  /** Unset when INTERCOM_ACCESS_TOKEN is: conversation steps then fail permanently (and say why). */
  intercom?: IntercomWorkspace;
  /** INTERCOM_SUPPORT_TEAM_ID; unset: conversations are assigned to the admin. */
  supportTeamId?: string;
}

interface RequestRow {
  id: string;
  source: string;
  customer_id: string | null;
  email: string | null;
  conversation_id: string | null;
  subject: string | null;
  intent: string;
  reason: string;
  reply: string | null;
  reply_sent_at: Date | null;
  member_email: string | null;
  app_user_id: string | null;
}

/** Plain-text reply as Intercom conversation HTML: paragraphs and line breaks kept, nothing interpreted as markup. */
export function toIntercomHtml(text: string): string {
  const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return text
    .split(/\n{2,}/)
    .map((p) => `<p>${escape(p.trim()).replace(/\n/g, '<br>')}</p>`)
    .join('');
}

export function createSupportActivities({ db, log, intercom, messages, supportTeamId }: SupportActivityDeps) {
  async function load(requestId: string): Promise<RequestRow> {
    const [row] = await db.query<RequestRow>(
      `SELECT s.id, s.source, s.customer_id, s.email, s.conversation_id, s.subject, s.intent, s.reason, s.reply,
              s.reply_sent_at, m.email AS member_email, m.app_user_id
       FROM support_requests s LEFT JOIN memberships m ON m.customer_id = s.customer_id WHERE s.id = $1`,
      [requestId],
    );
    if (!row)
      throw ApplicationFailure.nonRetryable(`support request ${requestId} is not recorded`, 'SupportRequestMissing');
    return row;
  }

  /** crm_sync_log rows are per member; a request from an unknown sender is logged under the request. */
  const scopeOf = (row: RequestRow): CallScope => ({
    customerId: row.customer_id ?? `support-request:${row.id}`,
    key: `support:${row.id}`,
  });

  function workspace(): IntercomWorkspace {
    if (!intercom)
      throw ApplicationFailure.nonRetryable(
        'Intercom is not configured (no INTERCOM_ACCESS_TOKEN)',
        'IntercomNotConfigured',
      );
    return intercom;
  }

  async function markReplySent(requestId: string, detail: Record<string, unknown>): Promise<void> {
    await db.query(
      `UPDATE support_requests SET reply_sent_at = now(), steps = COALESCE(steps, '{}'::jsonb) || $2::jsonb WHERE id = $1`,
      [requestId, JSON.stringify({ replyDelivery: detail })],
    );
  }

  function needsConversation(row: RequestRow): string {
    if (!row.conversation_id)
      throw ApplicationFailure.nonRetryable(`support request ${row.id} has no Intercom conversation`, 'NoConversation');
    return row.conversation_id;
  }

  return {
    /** Posts the automatic reply as an admin comment in the member's Intercom conversation, once per request. */
    async replyInConversation({ requestId }: { requestId: string }): Promise<{ sent: boolean }> {
      const row = await load(requestId);
      // A retry after a lost response may still post twice: Intercom replies take no idempotency key.
      if (row.reply_sent_at) return { sent: false };
      if (!row.reply) throw ApplicationFailure.nonRetryable(`support request ${requestId} has no reply`, 'NoReply');
      const conversationId = needsConversation(row);
      const scope = scopeOf(row);
      const by = await workspace().admin.id(scope);
      const r = await workspace().conversations.reply(scope, conversationId, by, toIntercomHtml(row.reply));
      await markReplySent(requestId, {
        channel: 'intercom_conversation',
        requestId: r.ok ? (r.requestId ?? null) : null,
      });
      log.info(
        { requestId, customerId: row.customer_id, conversationId, intent: row.intent },
        'support reply posted in the conversation',
      );
      return { sent: true };
    },

    /** Sends the automatic reply to a known member through the member messages (Intercom message or log), once. */
    async sendSupportReply({ requestId }: { requestId: string }): Promise<{ sent: boolean; channel: string }> {
      const row = await load(requestId);
      if (row.reply_sent_at) return { sent: false, channel: messages.channel };
      if (!row.reply) throw ApplicationFailure.nonRetryable(`support request ${requestId} has no reply`, 'NoReply');
      if (!row.customer_id)
        throw ApplicationFailure.nonRetryable(`support request ${requestId} has no member`, 'NoMember');
      const subject = row.subject ? `Re: ${row.subject}` : 'Your question to our support';
      let sent: { requestId?: string };
      try {
        sent = await messages.send(
          { customerId: row.customer_id, email: row.member_email ?? row.email, appUserId: row.app_user_id },
          { subject, body: row.reply },
        );
      } catch (err) {
        throw toActivityFailure(err, 'support reply');
      }
      await markReplySent(requestId, { channel: messages.channel, requestId: sent.requestId ?? null });
      log.info(
        { requestId, customerId: row.customer_id, channel: messages.channel, intent: row.intent },
        'support reply sent',
      );
      return { sent: true, channel: messages.channel };
    },

    /** Tags the conversation with the request's intent (tags are created by name when missing). */
    async tagSupportConversation({
      requestId,
      tags,
    }: {
      requestId: string;
      tags: string[];
    }): Promise<{ tagged: string[] }> {
      const row = await load(requestId);
      const conversationId = needsConversation(row);
      const scope = scopeOf(row);
      const by = await workspace().admin.id(scope);
      // A failed call drops the cached tag id (the tag may have been deleted in Intercom): the retry looks it up again.
      for (const name of tags) await workspace().tags.tagConversation(scope, conversationId, name, by);
      return { tagged: tags };
    },

    /** Assigns the conversation to the support team inbox, or to the admin when no team is configured. */
    async assignSupportConversation({
      requestId,
    }: {
      requestId: string;
    }): Promise<{ type: 'team' | 'admin'; id: string }> {
      const row = await load(requestId);
      const conversationId = needsConversation(row);
      const scope = scopeOf(row);
      const by = await workspace().admin.id(scope);
      const assignee = supportTeamId
        ? { type: 'team' as const, id: supportTeamId }
        : { type: 'admin' as const, id: by };
      await workspace().conversations.assign(scope, conversationId, by, assignee);
      return assignee;
    },

    /** One founder alert per conversation (or per request without one): redeliveries and retries never add another. */
    async raiseSupportAlert({ requestId }: { requestId: string }): Promise<{ raised: boolean; key: string }> {
      const row = await load(requestId);
      const key = row.conversation_id ? `support:conversation:${row.conversation_id}` : `support:request:${row.id}`;
      const where = row.conversation_id
        ? `Intercom conversation ${row.conversation_id}${supportTeamId ? ` (assigned to team ${supportTeamId})` : ''}`
        : `no conversation: answer ${row.member_email ?? row.email ?? row.customer_id ?? 'the sender'} directly`;
      const message = `Support request ${row.id} (${row.intent}, via ${row.source}) needs a person: ${row.reason} ${where}.`;
      const inserted = await db.query(
        `INSERT INTO alerts (key, customer_id, kind, message) VALUES ($1, $2, 'support_needs_human', $3)
         ON CONFLICT (key) DO NOTHING RETURNING id`,
        [key, row.customer_id, message],
      );
      // Ids only: the alert row carries the wording, the log must not carry the member's address.
      const fields = {
        requestId,
        customerId: row.customer_id,
        conversationId: row.conversation_id,
        intent: row.intent,
        alert: key,
      };
      if (inserted.length > 0) log.warn(fields, 'support request needs a person');
      else log.info(fields, 'support request needs a person; alert already raised for this conversation');
      return { raised: inserted.length > 0, key };
    },

    /** Records what became of the request (shown in GET /members/:id). */
    async recordSupportOutcome(input: {
      requestId: string;
      outcome: SupportOutcome;
      steps: SupportSteps;
    }): Promise<void> {
      await db.query(
        `UPDATE support_requests SET outcome = $2, steps = COALESCE(steps, '{}'::jsonb) || $3::jsonb, completed_at = now()
         WHERE id = $1`,
        [input.requestId, input.outcome, JSON.stringify(input.steps)],
      );
    },
  };
}
