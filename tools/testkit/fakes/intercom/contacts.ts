/** Intercom contacts: create, find by external id, show, update, and the notes an admin leaves on them. */
import { now, type Json } from '../scaffold';
import { ADMIN, ApiError, list, mustAdmin, ok, sameEmail, str, type IntercomRoute } from './common';
import type { FakeContact, FakeNote, IntercomWorkspace } from './workspace';

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

export function contactJson(ws: IntercomWorkspace, c: FakeContact): Json {
  const tagIds = [...(ws.contactTags.get(c.id) ?? [])];
  const noteIds = ws.notes.filter((n) => n.contactId === c.id).map((n) => n.id);
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

export function contactRoutes(ws: IntercomWorkspace): IntercomRoute[] {
  return [
    [
      'POST',
      /^\/contacts$/,
      (_p, b) => {
        const externalId = str(b.external_id) ?? null;
        const email = str(b.email) ?? null;
        if (!externalId && !email && !str(b.role)) {
          throw new ApiError(400, 'parameter_invalid', 'Either email, external_id or role must be specified');
        }
        const existing = ws.findConflict(null, externalId, email);
        if (existing)
          throw new ApiError(409, 'conflict', `A contact matching those details already exists with id=${existing.id}`);
        const t = now();
        const c: FakeContact = {
          id: ws.objectId(),
          role: str(b.role) ?? 'user',
          external_id: externalId,
          email,
          name: str(b.name) ?? null,
          phone: str(b.phone) ?? null,
          custom_attributes: { ...ws.checkCustomAttributes(b.custom_attributes) },
          created_at: t,
          updated_at: t,
          signed_up_at: typeof b.signed_up_at === 'number' ? b.signed_up_at : null,
          searchableFrom: Date.now() + ws.searchIndexLagMs,
        };
        ws.contacts.set(c.id, c);
        return ok(contactJson(ws, c));
      },
    ],
    [
      'GET',
      /^\/contacts\/find_by_external_id\/(?<externalId>[^/]+)$/,
      (p) => {
        const c = [...ws.contacts.values()].find((x) => x.external_id === p.externalId);
        if (!c) throw new ApiError(404, 'not_found', 'User Not Found');
        return ok(contactJson(ws, c));
      },
    ],
    ['GET', /^\/contacts\/(?<id>[^/]+)$/, (p) => ok(contactJson(ws, ws.mustContact(p.id)))],
    [
      'PUT',
      /^\/contacts\/(?<id>[^/]+)$/,
      (p, b) => {
        const c = ws.mustContact(p.id);
        const externalId = b.external_id === undefined ? c.external_id : (str(b.external_id) ?? null);
        const email = b.email === undefined ? c.email : (str(b.email) ?? null);
        const clash = ws.findConflict(
          c.id,
          externalId === c.external_id ? null : externalId,
          sameEmail(email, c.email) ? null : email,
        );
        if (clash)
          throw new ApiError(409, 'conflict', `A contact matching those details already exists with id=${clash.id}`);
        Object.assign(c.custom_attributes, ws.checkCustomAttributes(b.custom_attributes));
        for (const key of ['name', 'phone', 'role'] as const) if (typeof b[key] === 'string') c[key] = b[key] as string;
        Object.assign(c, { external_id: externalId, email, updated_at: now() });
        return ok(contactJson(ws, c));
      },
    ],
    [
      'POST',
      /^\/contacts\/(?<id>[^/]+)\/notes$/,
      (p, b) => {
        const c = ws.mustContact(p.id);
        if (!str(b.body)) throw new ApiError(400, 'parameter_invalid', 'body is required');
        const note: FakeNote = {
          id: ws.nextId(30),
          contactId: c.id,
          adminId: mustAdmin(b.admin_id ?? ADMIN.id),
          body: String(b.body),
          created_at: now(),
        };
        ws.notes.push(note);
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
  ];
}
