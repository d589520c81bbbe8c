/** The fake Intercom workspace's state: contacts, tags, notes, messages, conversations and data attributes. */
import { randomBytes } from 'node:crypto';
import { now } from '../scaffold';
import { ApiError, sameEmail } from './common';

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

export class IntercomWorkspace {
  seq = 0;
  contacts = new Map<string, FakeContact>();
  tags = new Map<string, FakeTag>();
  contactTags = new Map<string, Set<string>>();
  notes: FakeNote[] = [];
  messages: FakeMessage[] = [];
  conversations = new Map<string, FakeConversation>();
  attributes: FakeDataAttribute[] = [];

  constructor(
    /** Reject contact writes naming a custom attribute no `POST /data_attributes` created. */
    readonly strictAttributes: boolean,
    /** How long a new contact stays invisible to search. */
    readonly searchIndexLagMs: number,
  ) {
    this.seed();
  }

  /** Back to an empty workspace with Intercom's standard contact attributes. */
  seed(): void {
    this.seq = 0;
    this.contacts = new Map();
    this.tags = new Map();
    this.contactTags = new Map();
    this.notes = [];
    this.messages = [];
    this.conversations = new Map();
    this.attributes = STANDARD_ATTRIBUTES.map((name, i) => ({
      id: i + 1,
      name,
      model: 'contact',
      data_type: name.endsWith('_at') ? 'date' : 'string',
      description: `The contact's ${name.replace(/_/g, ' ')}`,
      custom: false,
      created_at: 1_600_000_000,
    }));
  }

  nextId(base: number): string {
    return String(base + ++this.seq);
  }

  /** Intercom's contact ids look like Mongo object ids: a hex timestamp and random bytes. */
  objectId(): string {
    return Math.floor(Date.now() / 1000).toString(16) + randomBytes(8).toString('hex');
  }

  mustContact(id: string | undefined): FakeContact {
    const c = id ? this.contacts.get(id) : undefined;
    if (!c) throw new ApiError(404, 'not_found', 'User Not Found');
    return c;
  }

  mustTag(id: unknown): FakeTag {
    const t = typeof id === 'string' || typeof id === 'number' ? this.tags.get(String(id)) : undefined;
    if (!t) throw new ApiError(404, 'not_found', 'Resource Not Found');
    return t;
  }

  mustConversation(id: string | undefined): FakeConversation {
    const v = id ? this.conversations.get(id) : undefined;
    if (!v) throw new ApiError(404, 'not_found', 'Resource Not Found');
    return v;
  }

  /** Another contact with this external id or email (Intercom's 409), `exceptId` being the one being updated. */
  findConflict(exceptId: string | null, externalId: string | null, email: string | null): FakeContact | undefined {
    return [...this.contacts.values()].find(
      (c) => c.id !== exceptId && ((externalId && c.external_id === externalId) || sameEmail(c.email, email)),
    );
  }

  checkCustomAttributes(values: unknown): Record<string, unknown> {
    if (values === undefined) return {};
    if (typeof values !== 'object' || values === null)
      throw new ApiError(400, 'parameter_invalid', 'custom_attributes must be an object');
    for (const name of Object.keys(values)) {
      if (this.strictAttributes && !this.attributes.some((a) => a.custom && a.model === 'contact' && a.name === name)) {
        throw new ApiError(400, 'parameter_invalid', `Custom attribute '${name}' does not exist`);
      }
    }
    return values as Record<string, unknown>;
  }

  addPart(v: FakeConversation, part: Omit<FakeConversationPart, 'id' | 'created_at'>): void {
    v.parts.push({ ...part, id: this.nextId(1000), created_at: now() });
    v.updated_at = now();
  }

  /** A customer-initiated conversation, as if the contact had written in through the Messenger. */
  createConversation(o: { contactId: string; body?: string; subject?: string }): string {
    if (!this.contacts.has(o.contactId)) throw new Error(`fake intercom: no contact ${o.contactId}`);
    const t = now();
    const id = this.nextId(500);
    this.conversations.set(id, {
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
}
