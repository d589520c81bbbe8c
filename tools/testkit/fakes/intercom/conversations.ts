/** Intercom conversations: shown with their parts, replied to, assigned, closed, opened, snoozed and tagged. */
import type { Json } from '../scaffold';
import { ADMIN, ApiError, mustAdmin, ok, str, type IntercomRoute } from './common';
import { appliedTag } from './tags';
import type { FakeConversation, IntercomWorkspace } from './workspace';

const adminRef = (id: string): Json => ({ type: 'admin', id, name: ADMIN.name, email: ADMIN.email });

export function conversationJson(ws: IntercomWorkspace, v: FakeConversation): Json {
  const contact = ws.contacts.get(v.contactId);
  return {
    type: 'conversation',
    id: v.id,
    created_at: v.created_at,
    updated_at: v.updated_at,
    waiting_since: null,
    snoozed_until: v.snoozed_until,
    source: {
      type: 'conversation',
      id: `${v.id}0`,
      delivered_as: 'customer_initiated',
      subject: v.subject,
      body: v.body,
      author: { type: 'user', id: v.contactId, name: contact?.name ?? null, email: contact?.email ?? '' },
      attachments: [],
      url: null,
      redacted: false,
    },
    contacts: {
      type: 'contact.list',
      contacts: [{ type: 'contact', id: v.contactId, external_id: contact?.external_id ?? null }],
    },
    first_contact_reply: null,
    admin_assignee_id: v.admin_assignee_id,
    team_assignee_id: v.team_assignee_id,
    open: v.state !== 'closed',
    state: v.state,
    read: false,
    tags: {
      type: 'tag.list',
      tags: v.tagIds.flatMap((id) => {
        const t = ws.tags.get(id);
        return t ? [appliedTag(t)] : [];
      }),
    },
    priority: 'not_priority',
    sla_applied: null,
    statistics: null,
    conversation_rating: null,
    teammates: null,
    title: null,
    custom_attributes: {},
    topics: {},
    ticket: null,
    linked_objects: { type: 'list', data: [], total_count: 0, has_more: false },
    ai_agent: null,
    ai_agent_participated: false,
    conversation_parts: {
      type: 'conversation_part.list',
      conversation_parts: v.parts.map((p) => ({
        type: 'conversation_part',
        id: p.id,
        part_type: p.part_type,
        body: p.body,
        created_at: p.created_at,
        updated_at: p.created_at,
        notified_at: p.created_at,
        assigned_to: p.assigned_to,
        author: p.author.type === 'admin' ? adminRef(p.author.id) : p.author,
        attachments: [],
        external_id: null,
        redacted: false,
        metadata: {},
        email_message_metadata: null,
        app_package_code: null,
      })),
      total_count: v.parts.length,
    },
  };
}

export function conversationRoutes(ws: IntercomWorkspace): IntercomRoute[] {
  return [
    ['GET', /^\/conversations\/(?<id>[^/]+)$/, (p) => ok(conversationJson(ws, ws.mustConversation(p.id)))],
    [
      'POST',
      /^\/conversations\/(?<id>[^/]+)\/reply$/,
      (p, b) => {
        const v = ws.mustConversation(p.id);
        const kind = String(b.message_type);
        if (!['comment', 'note', 'quick_reply'].includes(kind))
          throw new ApiError(400, 'parameter_invalid', 'message_type is invalid');
        const author =
          b.type === 'admin' ? { type: 'admin', id: mustAdmin(b.admin_id) } : { type: 'user', id: v.contactId };
        ws.addPart(v, {
          part_type: kind === 'note' ? 'note' : 'comment',
          body: str(b.body) ?? null,
          author,
          assigned_to: null,
        });
        return ok(conversationJson(ws, v));
      },
    ],
    [
      'POST',
      /^\/conversations\/(?<id>[^/]+)\/parts$/,
      (p, b) => {
        const v = ws.mustConversation(p.id);
        const author = { type: 'admin', id: mustAdmin(b.admin_id) };
        const body = str(b.body) ?? null;
        if (b.message_type === 'assignment') {
          const assignee = String(b.assignee_id ?? '');
          if (!/^\d+$/.test(assignee) || (b.type !== 'admin' && b.type !== 'team'))
            throw new ApiError(400, 'parameter_invalid', 'type and assignee_id are required');
          if (b.type === 'admin') v.admin_assignee_id = Number(assignee);
          else v.team_assignee_id = Number(assignee);
          ws.addPart(v, { part_type: 'assignment', body, author, assigned_to: { type: String(b.type), id: assignee } });
        } else if (b.message_type === 'close' || b.message_type === 'open' || b.message_type === 'snoozed') {
          v.state = b.message_type === 'close' ? 'closed' : b.message_type;
          v.snoozed_until = b.message_type === 'snoozed' ? Number(b.snoozed_until) : null;
          ws.addPart(v, { part_type: b.message_type, body, author, assigned_to: null });
        } else {
          throw new ApiError(400, 'parameter_invalid', 'message_type must be assignment, close, open or snoozed');
        }
        return ok(conversationJson(ws, v));
      },
    ],
    [
      'POST',
      /^\/conversations\/(?<id>[^/]+)\/tags$/,
      (p, b) => {
        const v = ws.mustConversation(p.id);
        mustAdmin(b.admin_id);
        const t = ws.mustTag(b.id);
        if (!v.tagIds.includes(t.id)) v.tagIds.push(t.id);
        return ok(appliedTag(t));
      },
    ],
  ];
}
