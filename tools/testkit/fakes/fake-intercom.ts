/**
 * A local stand-in for the Intercom REST API (version 2.14) that the real `intercom-client` talks to over HTTP.
 * It keeps just enough state for CRM sync and support automation, answers with Intercom's body shapes
 * (see Intercom's API 2.14 examples) and lets tests inject the failures Temporal must absorb.
 */
import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type IntercomFaultStatus = 429 | 500 | 502 | 503 | 401 | 400 | 404;
export interface RequestMatch {
  method?: string;
  path?: RegExp;
}
export interface IntercomFault {
  status: IntercomFaultStatus;
  /** How many matching requests fail; default 1. */
  times?: number;
  match?: RequestMatch;
  /** For 429: sets Retry-After and moves X-RateLimit-Reset that far ahead; default 10. */
  retryAfterSeconds?: number;
  /** Answer 502/503 the way a load balancer does (text/html), not with Intercom's JSON. */
  html?: boolean;
}
/** `unavailable`: every call gets 503; `reset`: sockets are destroyed mid-request; `refuse`: nothing listens. */
export type DownMode = 'unavailable' | 'reset' | 'refuse';

export interface IntercomCall {
  method: string;
  path: string;
  query: string;
  /** 0 when the connection was reset instead of answered. */
  status: number;
  authorization: string | undefined;
  intercomVersion: string | undefined;
  body: unknown;
  requestId: string;
  at: number;
}

export interface FakeContact {
  id: string;
  role: string;
  external_id: string | null;
  email: string | null;
  name: string | null;
  phone: string | null;
  custom_attributes: Record<string, unknown>;
  created_at: number;
  updated_at: number;
  signed_up_at: number | null;
  /** Epoch ms from which search sees the contact (Intercom's search index lags behind writes). */
  searchableFrom: number;
}
export interface FakeTag {
  id: string;
  name: string;
}
export interface FakeNote {
  id: string;
  contactId: string;
  adminId: string;
  body: string;
  created_at: number;
}
export interface FakeMessage {
  id: string;
  message_type: string;
  subject: string | null;
  body: string;
  fromAdminId: string;
  to: { type: string; id: string };
  conversationId: string | null;
  created_at: number;
}
export interface FakeConversationPart {
  id: string;
  part_type: string;
  body: string | null;
  author: { type: string; id: string };
  assigned_to: { type: string; id: string } | null;
  created_at: number;
}
export interface FakeConversation {
  id: string;
  contactId: string;
  subject: string;
  body: string;
  state: 'open' | 'closed' | 'snoozed';
  snoozed_until: number | null;
  admin_assignee_id: number | null;
  team_assignee_id: number | null;
  tagIds: string[];
  parts: FakeConversationPart[];
  created_at: number;
  updated_at: number;
}
export interface FakeDataAttribute {
  id: number;
  name: string;
  model: string;
  data_type: string;
  description: string;
  custom: boolean;
  options?: string[];
  created_at: number;
}

export interface FakeIntercomOptions {
  /** The access token every call must carry as `Authorization: Bearer …`; default `test_intercom_token`. */
  token?: string;
  /** Reject contact writes naming a custom attribute no `POST /data_attributes` created, as Intercom does; default true. */
  strictCustomAttributes?: boolean;
  /** How long a new contact stays invisible to `POST /contacts/search`; default 0. */
  searchIndexLagMs?: number;
}

export interface FakeIntercom {
  readonly baseUrl: string;
  readonly token: string;
  /** The workspace's admin (`from.id` of messages, `admin_id` of replies and assignments). */
  readonly adminId: string;
  readonly calls: IntercomCall[];
  fail(fault: IntercomFault): void;
  /** Holds matching responses back by `ms` after the request has taken effect (the lost-response case). */
  delay(ms: number, opts?: { times?: number; match?: RequestMatch }): void;
  /** Drops the faults and delays not used up yet, keeping the workspace's state. */
  clearFaults(): void;
  down(mode?: DownMode): Promise<void>;
  up(): Promise<void>;
  /** Forgets state, calls, faults and delays, and comes back up. */
  reset(): Promise<void>;
  createConversation(opts: { contactId: string; body?: string; subject?: string }): string;
  contact(id: string): FakeContact | undefined;
  contactByExternalId(externalId: string): FakeContact | undefined;
  tagsOf(contactId: string): string[];
  notesOf(contactId: string): FakeNote[];
  messagesTo(contactId: string): FakeMessage[];
  conversation(id: string): FakeConversation | undefined;
  dataAttributes(): FakeDataAttribute[];
  countCalls(method: string, path: RegExp): number;
  close(): Promise<void>;
}

/** Intercom's `X-Hub-Signature` for a webhook body: `sha1=` + HMAC-SHA1 hex of the exact bytes, keyed by the app's client secret. */
export function signIntercomWebhook(body: string, clientSecret: string): string {
  return `sha1=${createHmac('sha1', clientSecret).update(body, 'utf8').digest('hex')}`;
}

const RATE_LIMIT = 10_000;
const ADMIN = {
  type: 'admin',
  id: '991267583',
  name: 'Ciaran Lee',
  email: 'admin@memberops.test',
  job_title: 'Member support',
  away_mode_enabled: false,
  away_mode_reassign: false,
  has_inbox_seat: true,
  team_ids: [5017691],
  avatar: { image_url: 'https://static.intercomassets.com/assets/default-avatars/admins/128.png' },
};
const STANDARD_ATTRIBUTES = [
  'name',
  'email',
  'phone',
  'external_id',
  'role',
  'signed_up_at',
  'last_seen_at',
  'owner_id',
];
const NULL_CONTACT_FIELDS = [
  'avatar',
  'owner_id',
  'last_seen_at',
  'last_replied_at',
  'last_contacted_at',
  'last_email_opened_at',
  'last_email_clicked_at',
  'language_override',
  'browser',
  'browser_version',
  'browser_language',
  'os',
  'android_app_name',
  'android_app_version',
  'android_device',
  'android_os_version',
  'android_sdk_version',
  'android_last_seen_at',
  'ios_app_name',
  'ios_app_version',
  'ios_device',
  'ios_os_version',
  'ios_sdk_version',
  'ios_last_seen_at',
  'utm_campaign',
  'utm_content',
  'utm_medium',
  'utm_source',
  'utm_term',
  'referrer',
  'enabled_push_messaging',
];

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
type Json = Record<string, unknown>;
interface Reply {
  status: number;
  body: unknown;
}
type Handler = (params: Record<string, string>, body: Json, query: URLSearchParams) => Reply;

const now = (): number => Math.floor(Date.now() / 1000);
const ok = (body: unknown): Reply => ({ status: 200, body });
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const sameEmail = (a: string | null, b: string | null): boolean => !!a && !!b && a.toLowerCase() === b.toLowerCase();
const list = (data: unknown[], url: string): Json => ({
  type: 'list',
  data,
  url,
  total_count: data.length,
  has_more: false,
});

export async function startFakeIntercom(opts: FakeIntercomOptions = {}): Promise<FakeIntercom> {
  const token = opts.token ?? 'test_intercom_token';
  const strictAttributes = opts.strictCustomAttributes ?? true;
  const lagMs = opts.searchIndexLagMs ?? 0;
  const calls: IntercomCall[] = [];
  let faults: Array<Required<Pick<IntercomFault, 'times'>> & IntercomFault> = [];
  let delays: Array<{ ms: number; times: number; match?: RequestMatch }> = [];
  let downMode: DownMode | undefined;
  let seq = 0;
  let contacts = new Map<string, FakeContact>();
  let tags = new Map<string, FakeTag>();
  let contactTags = new Map<string, Set<string>>();
  let notes: FakeNote[] = [];
  let messages: FakeMessage[] = [];
  let conversations = new Map<string, FakeConversation>();
  let attributes: FakeDataAttribute[] = [];

  function seed(): void {
    seq = 0;
    contacts = new Map();
    tags = new Map();
    contactTags = new Map();
    notes = [];
    messages = [];
    conversations = new Map();
    attributes = STANDARD_ATTRIBUTES.map((name, i) => ({
      id: i + 1,
      name,
      model: 'contact',
      data_type: name.endsWith('_at') ? 'date' : 'string',
      description: `The contact's ${name.replace(/_/g, ' ')}`,
      custom: false,
      created_at: 1_600_000_000,
    }));
  }
  seed();
  const nextId = (base: number): string => String(base + ++seq);
  const objectId = (): string => Math.floor(Date.now() / 1000).toString(16) + randomBytes(8).toString('hex');

  // ---- JSON renderings -------------------------------------------------------------------------------------------
  function contactJson(c: FakeContact): Json {
    const tagIds = [...(contactTags.get(c.id) ?? [])];
    const noteIds = notes.filter((n) => n.contactId === c.id).map((n) => n.id);
    const nulls = Object.fromEntries(NULL_CONTACT_FIELDS.map((k) => [k, null]));
    return {
      type: 'contact',
      id: c.id,
      workspace_id: 'fake_workspace',
      external_id: c.external_id,
      role: c.role,
      email: c.email,
      phone: c.phone,
      name: c.name,
      ...nulls,
      social_profiles: { type: 'list', data: [] },
      has_hard_bounced: false,
      marked_email_as_spam: false,
      unsubscribed_from_emails: false,
      created_at: c.created_at,
      updated_at: c.updated_at,
      signed_up_at: c.signed_up_at,
      location: { type: 'location', country: null, region: null, city: null, country_code: null, continent_code: null },
      custom_attributes: { ...c.custom_attributes },
      tags: list(
        tagIds.map((id) => ({ type: 'tag', id, url: `/tags/${id}` })),
        `/contacts/${c.id}/tags`,
      ),
      notes: list(
        noteIds.map((id) => ({ type: 'note', id, url: `/notes/${id}` })),
        `/contacts/${c.id}/notes`,
      ),
      companies: list([], `/contacts/${c.id}/companies`),
      opted_out_subscription_types: list([], `/contacts/${c.id}/subscriptions`),
      opted_in_subscription_types: list([], `/contacts/${c.id}/subscriptions`),
    };
  }
  const appliedTag = (t: FakeTag): Json => ({
    type: 'tag',
    id: t.id,
    name: t.name,
    applied_at: now(),
    applied_by: { type: 'admin', id: ADMIN.id },
  });
  const adminRef = (id: string): Json => ({ type: 'admin', id, name: ADMIN.name, email: ADMIN.email });
  function conversationJson(v: FakeConversation): Json {
    const contact = contacts.get(v.contactId);
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
          const t = tags.get(id);
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
  const attributeJson = (a: FakeDataAttribute): Json => ({
    id: a.id,
    type: 'data_attribute',
    name: a.name,
    full_name: a.custom ? `custom_attributes.${a.name}` : a.name,
    label: a.name,
    description: a.description,
    data_type: a.data_type,
    ...(a.options ? { options: a.options } : {}),
    api_writable: true,
    ui_writable: !a.custom,
    messenger_writable: false,
    custom: a.custom,
    archived: false,
    admin_id: a.custom ? ADMIN.id : null,
    created_at: a.created_at,
    updated_at: a.created_at,
    model: a.model,
  });

  // ---- state helpers -------------------------------------------------------------------------------------------
  const mustContact = (id: string | undefined): FakeContact => {
    const c = id ? contacts.get(id) : undefined;
    if (!c) throw new ApiError(404, 'not_found', 'User Not Found');
    return c;
  };
  const mustTag = (id: unknown): FakeTag => {
    const t = typeof id === 'string' || typeof id === 'number' ? tags.get(String(id)) : undefined;
    if (!t) throw new ApiError(404, 'not_found', 'Resource Not Found');
    return t;
  };
  const mustConversation = (id: string | undefined): FakeConversation => {
    const v = id ? conversations.get(id) : undefined;
    if (!v) throw new ApiError(404, 'not_found', 'Resource Not Found');
    return v;
  };
  const mustAdmin = (id: unknown): string => {
    if (String(id) !== ADMIN.id) throw new ApiError(404, 'admin_not_found', 'Admin not found');
    return ADMIN.id;
  };
  function findConflict(
    exceptId: string | null,
    externalId: string | null,
    email: string | null,
  ): FakeContact | undefined {
    return [...contacts.values()].find(
      (c) => c.id !== exceptId && ((externalId && c.external_id === externalId) || sameEmail(c.email, email)),
    );
  }
  function checkCustomAttributes(values: unknown): Record<string, unknown> {
    if (values === undefined) return {};
    if (typeof values !== 'object' || values === null)
      throw new ApiError(400, 'parameter_invalid', 'custom_attributes must be an object');
    for (const name of Object.keys(values)) {
      if (strictAttributes && !attributes.some((a) => a.custom && a.model === 'contact' && a.name === name)) {
        throw new ApiError(400, 'parameter_invalid', `Custom attribute '${name}' does not exist`);
      }
    }
    return values as Record<string, unknown>;
  }
  function addPart(v: FakeConversation, part: Omit<FakeConversationPart, 'id' | 'created_at'>): void {
    v.parts.push({ ...part, id: nextId(1000), created_at: now() });
    v.updated_at = now();
  }

  // ---- search --------------------------------------------------------------------------------------------------
  function fieldValue(c: FakeContact, field: string): unknown {
    if (field.startsWith('custom_attributes.')) return c.custom_attributes[field.slice('custom_attributes.'.length)];
    const known: Record<string, unknown> = {
      id: c.id,
      external_id: c.external_id,
      email: c.email,
      name: c.name,
      phone: c.phone,
      role: c.role,
      created_at: c.created_at,
      updated_at: c.updated_at,
      signed_up_at: c.signed_up_at,
    };
    if (!(field in known)) throw new ApiError(400, 'invalid_field', `${field} is not a searchable field`);
    return known[field];
  }
  function matches(c: FakeContact, q: Json): boolean {
    const { field, operator, value } = q;
    if (operator === 'AND' || operator === 'OR') {
      if (!Array.isArray(value)) throw new ApiError(400, 'parameter_invalid', `${operator} needs an array of queries`);
      const results = value.map((sub: Json) => matches(c, sub));
      return operator === 'AND' ? results.every(Boolean) : results.some(Boolean);
    }
    if (typeof field !== 'string') throw new ApiError(400, 'parameter_invalid', 'query.field is required');
    const actual = fieldValue(c, field);
    const eq = (a: unknown, b: unknown): boolean =>
      field === 'email' ? sameEmail(a as string, b as string) : (a ?? null) === (b ?? null) || String(a) === String(b);
    const text = String(actual ?? '');
    switch (operator) {
      case '=':
        return eq(actual, value);
      case '!=':
        return !eq(actual, value);
      case 'IN':
        return Array.isArray(value) && value.some((v) => eq(actual, v));
      case 'NIN':
        return Array.isArray(value) && !value.some((v) => eq(actual, v));
      case '~':
        return text.includes(String(value));
      case '!~':
        return !text.includes(String(value));
      case '^':
        return text.startsWith(String(value));
      case '$':
        return text.endsWith(String(value));
      case '>':
        return Number(actual) > Number(value);
      case '<':
        return Number(actual) < Number(value);
      default:
        throw new ApiError(400, 'parameter_invalid', `Unsupported operator ${String(operator)}`);
    }
  }

  // ---- routes --------------------------------------------------------------------------------------------------
  const routes: Array<[string, RegExp, Handler]> = [
    [
      'POST',
      /^\/contacts$/,
      (_p, b) => {
        const externalId = str(b.external_id) ?? null;
        const email = str(b.email) ?? null;
        if (!externalId && !email && !str(b.role)) {
          throw new ApiError(400, 'parameter_invalid', 'Either email, external_id or role must be specified');
        }
        const existing = findConflict(null, externalId, email);
        if (existing)
          throw new ApiError(409, 'conflict', `A contact matching those details already exists with id=${existing.id}`);
        const t = now();
        const c: FakeContact = {
          id: objectId(),
          role: str(b.role) ?? 'user',
          external_id: externalId,
          email,
          name: str(b.name) ?? null,
          phone: str(b.phone) ?? null,
          custom_attributes: { ...checkCustomAttributes(b.custom_attributes) },
          created_at: t,
          updated_at: t,
          signed_up_at: typeof b.signed_up_at === 'number' ? b.signed_up_at : null,
          searchableFrom: Date.now() + lagMs,
        };
        contacts.set(c.id, c);
        return ok(contactJson(c));
      },
    ],
    [
      'POST',
      /^\/contacts\/search$/,
      (_p, b) => {
        const query = b.query as Json | undefined;
        if (!query || typeof query !== 'object') throw new ApiError(400, 'parameter_invalid', 'query is required');
        const pagination = (b.pagination ?? {}) as Json;
        const perPage = Math.min(Number(pagination.per_page ?? 50), 150);
        const offset =
          typeof pagination.starting_after === 'string'
            ? Number(Buffer.from(pagination.starting_after, 'base64url').toString())
            : 0;
        const found = [...contacts.values()].filter((c) => c.searchableFrom <= Date.now() && matches(c, query));
        const page = found.slice(offset, offset + perPage);
        const more = offset + perPage < found.length;
        const pages: Json = {
          type: 'pages',
          page: Math.floor(offset / perPage) + 1,
          per_page: perPage,
          total_pages: Math.ceil(found.length / perPage),
        };
        if (more)
          pages.next = {
            page: Number(pages.page) + 1,
            starting_after: Buffer.from(String(offset + perPage)).toString('base64url'),
          };
        return ok({ type: 'list', data: page.map(contactJson), total_count: found.length, pages });
      },
    ],
    [
      'GET',
      /^\/contacts\/find_by_external_id\/(?<externalId>[^/]+)$/,
      (p) => {
        const c = [...contacts.values()].find((x) => x.external_id === p.externalId);
        if (!c) throw new ApiError(404, 'not_found', 'User Not Found');
        return ok(contactJson(c));
      },
    ],
    ['GET', /^\/contacts\/(?<id>[^/]+)$/, (p) => ok(contactJson(mustContact(p.id)))],
    [
      'PUT',
      /^\/contacts\/(?<id>[^/]+)$/,
      (p, b) => {
        const c = mustContact(p.id);
        const externalId = b.external_id === undefined ? c.external_id : (str(b.external_id) ?? null);
        const email = b.email === undefined ? c.email : (str(b.email) ?? null);
        const clash = findConflict(
          c.id,
          externalId === c.external_id ? null : externalId,
          sameEmail(email, c.email) ? null : email,
        );
        if (clash)
          throw new ApiError(409, 'conflict', `A contact matching those details already exists with id=${clash.id}`);
        Object.assign(c.custom_attributes, checkCustomAttributes(b.custom_attributes));
        for (const key of ['name', 'phone', 'role'] as const) if (typeof b[key] === 'string') c[key] = b[key] as string;
        Object.assign(c, { external_id: externalId, email, updated_at: now() });
        return ok(contactJson(c));
      },
    ],
    [
      'POST',
      /^\/contacts\/(?<id>[^/]+)\/tags$/,
      (p, b) => {
        const c = mustContact(p.id);
        const t = mustTag(b.id);
        contactTags.set(c.id, (contactTags.get(c.id) ?? new Set()).add(t.id));
        return ok(appliedTag(t));
      },
    ],
    [
      'DELETE',
      /^\/contacts\/(?<id>[^/]+)\/tags\/(?<tagId>[^/]+)$/,
      (p) => {
        const c = mustContact(p.id);
        const t = mustTag(p.tagId);
        contactTags.get(c.id)?.delete(t.id);
        return ok(appliedTag(t));
      },
    ],
    [
      'POST',
      /^\/contacts\/(?<id>[^/]+)\/notes$/,
      (p, b) => {
        const c = mustContact(p.id);
        if (!str(b.body)) throw new ApiError(400, 'parameter_invalid', 'body is required');
        const note: FakeNote = {
          id: nextId(30),
          contactId: c.id,
          adminId: mustAdmin(b.admin_id ?? ADMIN.id),
          body: String(b.body),
          created_at: now(),
        };
        notes.push(note);
        const { name, email, away_mode_enabled, away_mode_reassign } = ADMIN;
        return ok({
          type: 'note',
          id: note.id,
          created_at: note.created_at,
          contact: { type: 'contact', id: c.id },
          author: { type: 'admin', id: ADMIN.id, name, email, away_mode_enabled, away_mode_reassign },
          body: note.body,
        });
      },
    ],
    [
      'GET',
      /^\/data_attributes$/,
      (_p, _b, q) => {
        const model = q.get('model');
        return ok({ type: 'list', data: attributes.filter((a) => !model || a.model === model).map(attributeJson) });
      },
    ],
    [
      'POST',
      /^\/data_attributes$/,
      (_p, b) => {
        const name = str(b.name);
        const model = str(b.model);
        const dataType = str(b.data_type);
        if (!name) throw new ApiError(400, 'parameter_invalid', 'Name is required');
        if (model !== 'contact' && model !== 'company')
          throw new ApiError(400, 'parameter_invalid', 'Model must be contact or company');
        if (!dataType || !['string', 'integer', 'float', 'boolean', 'date', 'datetime', 'options'].includes(dataType)) {
          throw new ApiError(400, 'parameter_invalid', 'Data type is invalid');
        }
        const other = attributes.find((a) => a.name === name);
        if (other) {
          const where = other.model === 'contact' ? 'people' : 'company';
          throw new ApiError(
            400,
            'parameter_invalid',
            `You already have '${name}' in your ${where} data. To save this as new ${model === 'contact' ? 'people' : 'company'} data, use a different name.`,
          );
        }
        const options = Array.isArray(b.options) ? b.options.map((o: Json) => String(o.value)) : undefined;
        const attribute: FakeDataAttribute = {
          id: 100 + ++seq,
          name,
          model,
          data_type: dataType,
          description: str(b.description) ?? '',
          custom: true,
          options,
          created_at: now(),
        };
        attributes.push(attribute);
        return ok(attributeJson(attribute));
      },
    ],
    [
      'GET',
      /^\/tags$/,
      () => ok({ type: 'list', data: [...tags.values()].map((t) => ({ type: 'tag', id: t.id, name: t.name })) }),
    ],
    [
      'POST',
      /^\/tags$/,
      (_p, b) => {
        const name = str(b.name);
        if (!name || b.companies !== undefined || b.users !== undefined) {
          throw new ApiError(400, 'parameter_invalid', 'The fake supports creating or renaming a tag by name only');
        }
        let t = b.id !== undefined ? mustTag(b.id) : [...tags.values()].find((x) => x.name === name);
        if (t) t.name = name;
        else tags.set((t = { id: nextId(100), name }).id, t);
        return ok({ type: 'tag', id: t.id, name: t.name });
      },
    ],
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
        const contact = mustContact(str(to.id));
        const conversationId =
          b.create_conversation_without_contact_reply === true
            ? createConversation({ contactId: contact.id, body: String(b.body), subject: str(b.subject) })
            : null;
        const m: FakeMessage = {
          id: nextId(403918000),
          message_type: type,
          subject: str(b.subject) ?? null,
          body: String(b.body),
          fromAdminId,
          to: { type: String(to.type), id: contact.id },
          conversationId,
          created_at: now(),
        };
        messages.push(m);
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
    ['GET', /^\/admins$/, () => ok({ type: 'admin.list', admins: [ADMIN] })],
    [
      'GET',
      /^\/me$/,
      () => {
        const { id, name, email, away_mode_enabled, away_mode_reassign, has_inbox_seat } = ADMIN;
        const me = { type: 'admin', id, name, email, away_mode_enabled, away_mode_reassign, has_inbox_seat };
        const app = {
          type: 'app',
          id_code: 'fake0app',
          name: 'memberops (fake)',
          created_at: 1_600_000_000,
          secure: false,
          identity_verification: false,
          timezone: 'UTC',
          region: 'US',
        };
        return ok({ ...me, email_verified: true, avatar: { type: 'avatar', ...ADMIN.avatar }, app });
      },
    ],
    ['GET', /^\/conversations\/(?<id>[^/]+)$/, (p) => ok(conversationJson(mustConversation(p.id)))],
    [
      'POST',
      /^\/conversations\/(?<id>[^/]+)\/reply$/,
      (p, b) => {
        const v = mustConversation(p.id);
        const kind = String(b.message_type);
        if (!['comment', 'note', 'quick_reply'].includes(kind))
          throw new ApiError(400, 'parameter_invalid', 'message_type is invalid');
        const author =
          b.type === 'admin' ? { type: 'admin', id: mustAdmin(b.admin_id) } : { type: 'user', id: v.contactId };
        addPart(v, {
          part_type: kind === 'note' ? 'note' : 'comment',
          body: str(b.body) ?? null,
          author,
          assigned_to: null,
        });
        return ok(conversationJson(v));
      },
    ],
    [
      'POST',
      /^\/conversations\/(?<id>[^/]+)\/parts$/,
      (p, b) => {
        const v = mustConversation(p.id);
        const author = { type: 'admin', id: mustAdmin(b.admin_id) };
        const body = str(b.body) ?? null;
        if (b.message_type === 'assignment') {
          const assignee = String(b.assignee_id ?? '');
          if (!/^\d+$/.test(assignee) || (b.type !== 'admin' && b.type !== 'team'))
            throw new ApiError(400, 'parameter_invalid', 'type and assignee_id are required');
          if (b.type === 'admin') v.admin_assignee_id = Number(assignee);
          else v.team_assignee_id = Number(assignee);
          addPart(v, { part_type: 'assignment', body, author, assigned_to: { type: String(b.type), id: assignee } });
        } else if (b.message_type === 'close' || b.message_type === 'open' || b.message_type === 'snoozed') {
          v.state = b.message_type === 'close' ? 'closed' : b.message_type;
          v.snoozed_until = b.message_type === 'snoozed' ? Number(b.snoozed_until) : null;
          addPart(v, { part_type: b.message_type, body, author, assigned_to: null });
        } else {
          throw new ApiError(400, 'parameter_invalid', 'message_type must be assignment, close, open or snoozed');
        }
        return ok(conversationJson(v));
      },
    ],
    [
      'POST',
      /^\/conversations\/(?<id>[^/]+)\/tags$/,
      (p, b) => {
        const v = mustConversation(p.id);
        mustAdmin(b.admin_id);
        const t = mustTag(b.id);
        if (!v.tagIds.includes(t.id)) v.tagIds.push(t.id);
        return ok(appliedTag(t));
      },
    ],
  ];

  function createConversation(o: { contactId: string; body?: string; subject?: string }): string {
    if (!contacts.has(o.contactId)) throw new Error(`fake intercom: no contact ${o.contactId}`);
    const t = now();
    const id = nextId(500);
    conversations.set(id, {
      id,
      contactId: o.contactId,
      subject: o.subject ?? '',
      body: o.body ?? '<p>Hello</p>',
      state: 'open',
      snoozed_until: null,
      admin_assignee_id: null,
      team_assignee_id: null,
      tagIds: [],
      parts: [],
      created_at: t,
      updated_at: t,
    });
    return id;
  }

  // ---- HTTP plumbing -------------------------------------------------------------------------------------------
  const requestIdOf = (): string => randomBytes(10).toString('hex');
  const errorList = (requestId: string, code: string, message: string): Json => ({
    type: 'error.list',
    request_id: requestId,
    errors: [{ code, message }],
  });
  const matchesRule = (m: RequestMatch | undefined, method: string, path: string): boolean =>
    (!m?.method || m.method.toUpperCase() === method) && (!m?.path || m.path.test(path));
  const windowStart = (): number => Math.floor(Date.now() / 60_000) * 60;

  function route(method: string, path: string, body: Json, query: URLSearchParams, requestId: string): Reply {
    for (const [m, re, handler] of routes) {
      const hit = m === method ? re.exec(path) : null;
      if (!hit) continue;
      try {
        const params = Object.fromEntries(Object.entries(hit.groups ?? {}).map(([k, v]) => [k, decodeURIComponent(v)]));
        return handler(params, body, query);
      } catch (err) {
        if (err instanceof ApiError) return { status: err.status, body: errorList(requestId, err.code, err.message) };
        // A bug in the fake: say so loudly instead of crashing the test process.
        console.error(err);
        return { status: 500, body: errorList(requestId, 'server_error', `fake intercom bug: ${String(err)}`) };
      }
    }
    return { status: 404, body: errorList(requestId, 'not_found', 'Resource Not Found') };
  }

  function faultReply(f: IntercomFault, requestId: string, headers: Record<string, string>): Reply {
    if (f.status === 429) {
      const wait = f.retryAfterSeconds ?? 10;
      headers['Retry-After'] = String(wait);
      headers['X-RateLimit-Remaining'] = '0';
      headers['X-RateLimit-Reset'] = String(now() + wait);
    }
    if (f.html && (f.status === 502 || f.status === 503)) {
      headers['Content-Type'] = 'text/html';
      return {
        status: f.status,
        body: `<html><body><h1>${f.status} ${http.STATUS_CODES[f.status]}</h1></body></html>`,
      };
    }
    const codes: Record<number, [string, string]> = {
      400: ['parameter_invalid', 'Bad Request'],
      401: ['unauthorized', 'Access Token Invalid'],
      404: ['not_found', 'Resource Not Found'],
      429: ['rate_limit_exceeded', 'Exceeded rate limit'],
      500: ['server_error', 'Server Error'],
      502: ['bad_gateway', 'Bad Gateway'],
      503: ['service_unavailable', 'Service Unavailable'],
    };
    const [code, message] = codes[f.status];
    return { status: f.status, body: errorList(requestId, code, message) };
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  const timers = new Set<NodeJS.Timeout>();

  function handle(req: http.IncomingMessage, res: http.ServerResponse, raw: string): void {
    const url = new URL(req.url ?? '/', 'http://fake-intercom');
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname;
    const requestId = requestIdOf();
    let body: unknown = raw;
    try {
      body = raw ? JSON.parse(raw) : {};
    } catch {
      // Recorded as the raw string; answered below as a 400, as Intercom does for malformed JSON.
    }
    const call: IntercomCall = {
      method,
      path,
      query: url.search,
      status: 0,
      authorization: req.headers.authorization,
      intercomVersion: req.headers['intercom-version'] as string | undefined,
      body,
      requestId,
      at: Date.now(),
    };
    calls.push(call);
    if (downMode === 'reset') {
      req.socket.destroy();
      return;
    }
    const headers: Record<string, string> = {
      'Content-Type': 'application/json; charset=utf-8',
      'X-Request-Id': requestId,
      'X-RateLimit-Limit': String(RATE_LIMIT),
      'X-RateLimit-Remaining': String(
        Math.max(0, RATE_LIMIT - calls.filter((c) => c.at >= windowStart() * 1000).length),
      ),
      'X-RateLimit-Reset': String(windowStart() + 60),
    };
    const fault = faults.find((f) => f.times > 0 && matchesRule(f.match, method, path));
    let reply: Reply;
    if (downMode === 'unavailable') reply = faultReply({ status: 503 }, requestId, headers);
    else if (fault) {
      fault.times -= 1;
      reply = faultReply(fault, requestId, headers);
    } else if (req.headers.authorization !== `Bearer ${token}`) {
      reply = { status: 401, body: errorList(requestId, 'unauthorized', 'Access Token Invalid') };
    } else if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      reply = { status: 400, body: errorList(requestId, 'parameter_invalid', 'Request body must be a JSON object') };
    } else {
      reply = route(method, path, body as Json, url.searchParams, requestId);
    }
    call.status = reply.status;
    const send = (): void => {
      if (res.destroyed) return;
      res.writeHead(reply.status, headers);
      res.end(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
    };
    const hold = delays.find((d) => d.times > 0 && matchesRule(d.match, method, path));
    if (!hold) return send();
    hold.times -= 1;
    const timer = setTimeout(() => {
      timers.delete(timer);
      send();
    }, hold.ms);
    timers.add(timer);
  }

  async function listen(port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return (server.address() as AddressInfo).port;
  }
  async function stopListening(): Promise<void> {
    for (const t of timers) clearTimeout(t);
    timers.clear();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Keep-alive sockets (undici pools them) would otherwise keep the server, and the jest process, alive.
    server.closeAllConnections();
    await closed;
  }
  const port = await listen(0);
  async function up(): Promise<void> {
    if (!server.listening) await listen(port);
    downMode = undefined;
  }

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    token,
    adminId: ADMIN.id,
    calls,
    fail: (f) => void faults.push({ ...f, times: f.times ?? 1 }),
    delay: (ms, o) => void delays.push({ ms, times: o?.times ?? 1, match: o?.match }),
    clearFaults() {
      faults = [];
      delays = [];
    },
    async down(mode = 'unavailable') {
      if (mode === 'refuse' && server.listening) await stopListening();
      downMode = mode;
    },
    up,
    async reset() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      faults = [];
      delays = [];
      calls.length = 0;
      seed();
      await up();
    },
    createConversation,
    contact: (id) => contacts.get(id),
    contactByExternalId: (externalId) => [...contacts.values()].find((c) => c.external_id === externalId),
    tagsOf: (contactId) => [...(contactTags.get(contactId) ?? [])].map((id) => tags.get(id)?.name ?? id),
    notesOf: (contactId) => notes.filter((n) => n.contactId === contactId),
    messagesTo: (contactId) => messages.filter((m) => m.to.id === contactId),
    conversation: (id) => conversations.get(id),
    dataAttributes: () => [...attributes],
    countCalls: (method, path) => calls.filter((c) => c.method === method.toUpperCase() && path.test(c.path)).length,
    async close() {
      if (server.listening) await stopListening();
    },
  };
}
