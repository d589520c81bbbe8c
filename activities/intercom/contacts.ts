/**
 * One Intercom contact per member: found by external_id (the app's user id when known, else the Stripe customer id)
 * or email, created when missing, and remembered in `crm_contacts` so later syncs skip the lookup.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { Intercom, IntercomClient } from 'intercom-client';
import type { Db } from '../../lib/db';
import type { Logger } from '../../lib/logger';
import { errorMessageOf, type CallScope, type IntercomCall } from './calls';

export interface MemberIdentity {
  customerId: string;
  appUserId: string | null;
  email: string | null;
}

export interface ContactRef {
  id: string;
  externalId: string | null;
  /** Tag ids on the contact as Intercom last answered; null when unknown or truncated (Intercom lists up to 10). */
  tagIds: ReadonlySet<string> | null;
}

/** Custom attributes of the contact; undefined to leave them alone (member messages). */
export type ContactAttributes = Record<string, string | number | boolean | null>;

const desiredExternalId = (who: MemberIdentity): string => who.appUserId ?? who.customerId;

function toRef(c: Intercom.Contact): ContactRef {
  const tags = c.tags;
  const tagIds = tags && !tags.has_more ? new Set((tags.data ?? []).flatMap((t) => (t.id ? [t.id] : []))) : null;
  return { id: c.id, externalId: c.external_id ?? null, tagIds };
}

/** A contact is the member's when it has no external_id yet or one of the member's ids. */
const isOurs = (who: MemberIdentity, externalId: string | null): boolean =>
  externalId === null || externalId === who.customerId || externalId === who.appUserId;

const is = (status: number) => (f: { status?: number }) => f.status === status;

export function createContactResolver({
  client,
  db,
  call,
  log,
}: {
  client: IntercomClient;
  db: Db;
  call: IntercomCall;
  log: Logger;
}) {
  async function cached(customerId: string): Promise<{ contactId: string; externalId: string | null } | undefined> {
    const [row] = await db.query<{ contact_id: string; external_id: string | null }>(
      'SELECT contact_id, external_id FROM crm_contacts WHERE customer_id = $1',
      [customerId],
    );
    return row ? { contactId: row.contact_id, externalId: row.external_id } : undefined;
  }

  async function remember(customerId: string, ref: { id: string; externalId: string | null }): Promise<void> {
    await db.query(
      `INSERT INTO crm_contacts (customer_id, contact_id, external_id) VALUES ($1, $2, $3)
       ON CONFLICT (customer_id) DO UPDATE SET contact_id = EXCLUDED.contact_id, external_id = EXCLUDED.external_id, updated_at = now()`,
      [customerId, ref.id, ref.externalId],
    );
  }

  async function forget(customerId: string, contactId: string): Promise<void> {
    await db.query('DELETE FROM crm_contacts WHERE customer_id = $1 AND contact_id = $2', [customerId, contactId]);
  }

  async function findByExternalId(scope: CallScope, externalId: string): Promise<ContactRef | undefined> {
    const r = await call(
      scope,
      'contacts.findByExternalId',
      () => client.contacts.showContactByExternalId({ external_id: externalId }).withRawResponse(),
      {
        expect: is(404),
      },
    );
    return r.ok ? toRef(r.data) : undefined;
  }

  async function findByEmail(scope: CallScope, who: MemberIdentity): Promise<ContactRef | undefined> {
    if (!who.email) return undefined;
    const email = who.email;
    const r = await call(scope, 'contacts.search', async () => {
      const page = await client.contacts.search({
        query: { field: 'email', operator: '=', value: email },
        pagination: { per_page: 10 },
      });
      return { data: page.data, rawResponse: page.rawResponse };
    });
    if (!r.ok) return undefined;
    // A contact that belongs to another app user is someone else sharing the address: not ours to take over.
    const match = r.data.find((c) => isOurs(who, c.external_id ?? null));
    return match ? toRef(match) : undefined;
  }

  /** Exact lookups first (the search index lags behind writes by up to minutes), then email. */
  async function findExisting(scope: CallScope, who: MemberIdentity): Promise<ContactRef | undefined> {
    const externalIds = [...new Set([desiredExternalId(who), who.customerId])];
    for (const externalId of externalIds) {
      const found = await findByExternalId(scope, externalId);
      if (found) return found;
    }
    return findByEmail(scope, who);
  }

  /** `created` is false when Intercom answered 409 and the existing contact was adopted. */
  async function create(
    scope: CallScope,
    who: MemberIdentity,
    attributes: ContactAttributes | undefined,
  ): Promise<{ ref: ContactRef; created: boolean }> {
    const externalId = desiredExternalId(who);
    const send = (email: string | null) =>
      call(
        scope,
        'contacts.create',
        () =>
          client.contacts
            .create({
              external_id: externalId,
              ...(email ? { email } : {}),
              ...(attributes ? { custom_attributes: attributes } : {}),
            })
            .withRawResponse(),
        // 409: it exists (a concurrent create, or a lookup the search index did not answer yet): use it.
        { expect: is(409) },
      );
    let r = await send(who.email);
    if (r.ok) return { ref: toRef(r.data), created: true };
    const idInMessage = /\bid=([A-Za-z0-9]+)/.exec(errorMessageOf(r.body))?.[1];
    if (idInMessage) {
      const got = await call(
        scope,
        'contacts.find',
        () => client.contacts.find({ contact_id: idInMessage }).withRawResponse(),
        {
          expect: is(404),
        },
      );
      if (got.ok) {
        const existing = toRef(got.data);
        if (isOurs(who, existing.externalId)) return { ref: existing, created: false };
        // The address belongs to another app user's contact: the member gets a contact of its own, without the email.
        log.warn(
          { customerId: who.customerId, conflictingContact: existing.id },
          "email is on another user's Intercom contact; creating the contact without it",
        );
        r = await send(null);
        if (r.ok) return { ref: toRef(r.data), created: true };
      }
    }
    const found = await findExisting(scope, who);
    if (found) return { ref: found, created: false };
    // Exists but cannot be found yet: a later attempt will see it.
    throw ApplicationFailure.retryable(
      `Intercom says a contact for ${who.customerId} exists but lookups do not find it yet`,
      'CrmContactNotVisible',
    );
  }

  /** PUT /contacts/:id; 404 (deleted or merged in Intercom) and 409 (external_id taken) come back to the caller. */
  async function update(scope: CallScope, id: string, body: Omit<Intercom.UpdateContactRequest, 'contact_id'>) {
    return call(scope, 'contacts.update', () => client.contacts.update({ contact_id: id, ...body }).withRawResponse(), {
      expect: (f) => f.status === 404 || f.status === 409,
    });
  }

  // CRM sync and member messages of one member run in parallel lanes: in this process they resolve the contact one
  // at a time, so the second finds what the first created instead of racing it to a 409. Other processes still can,
  // and the 409 handling covers them.
  const inFlight = new Map<string, Promise<unknown>>();
  function oneAtATime<T>(customerId: string, fn: () => Promise<T>): Promise<T> {
    const previous = inFlight.get(customerId) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    inFlight.set(customerId, settled);
    void settled.then(() => {
      if (inFlight.get(customerId) === settled) inFlight.delete(customerId);
    });
    return run;
  }

  /**
   * Brings the member's contact in line: resolves it (cache, lookup, create) and, with `attributes`, writes them.
   * Returns the contact as Intercom last answered (fresh tags when an update ran).
   */
  function ensureContact(scope: CallScope, who: MemberIdentity, attributes?: ContactAttributes): Promise<ContactRef> {
    return oneAtATime(who.customerId, () => resolveAndUpdate(scope, who, attributes));
  }

  async function resolveAndUpdate(
    scope: CallScope,
    who: MemberIdentity,
    attributes?: ContactAttributes,
  ): Promise<ContactRef> {
    const wanted = desiredExternalId(who);
    // Only ever move external_id from nothing or the Stripe id to the app user id; never take over someone else's.
    const externalIdChange = (current: string | null): { external_id?: string } =>
      current !== wanted && (current === null || current === who.customerId) ? { external_id: wanted } : {};

    const known = await cached(who.customerId);
    let ref: ContactRef | undefined = known
      ? { id: known.contactId, externalId: known.externalId, tagIds: null }
      : undefined;
    if (!ref) {
      ref = await findExisting(scope, who);
      if (!ref) {
        const made = await create(scope, who, attributes);
        ref = made.ref;
        await remember(who.customerId, ref);
        // A fresh create already carries the attributes; a 409-adopted contact still needs them.
        if (made.created) return ref;
      }
    }
    if (!attributes && !externalIdChange(ref.externalId).external_id) {
      if (!known) await remember(who.customerId, ref);
      return ref;
    }

    let r = await update(scope, ref.id, {
      ...(attributes ? { custom_attributes: attributes } : {}),
      ...externalIdChange(ref.externalId),
    });
    if (!r.ok && r.failure.status === 404) {
      // The cached contact was deleted or merged in Intercom: look again (or create) and carry on.
      log.info(
        { customerId: who.customerId, contactId: ref.id },
        'Intercom contact is gone; resolving the member again',
      );
      await forget(who.customerId, ref.id);
      const again = (await findExisting(scope, who)) ?? (await create(scope, who, attributes)).ref;
      r = await update(scope, again.id, {
        ...(attributes ? { custom_attributes: attributes } : {}),
        ...externalIdChange(again.externalId),
      });
    } else if (!r.ok && r.failure.status === 409) {
      // Another contact already has the app user id (the app's Messenger created it): that one is the member.
      const owner = await findByExternalId(scope, wanted);
      log.info(
        { customerId: who.customerId, from: ref.id, to: owner?.id },
        'Intercom contact with the app user id exists; using it',
      );
      r = await update(scope, owner?.id ?? ref.id, attributes ? { custom_attributes: attributes } : {});
    }
    if (!r.ok) {
      throw ApplicationFailure.retryable(
        `Intercom contact of ${who.customerId} changed during the sync (HTTP ${r.failure.status})`,
        'CrmContactChanged',
      );
    }
    const updated = toRef(r.data);
    await remember(who.customerId, updated);
    return updated;
  }

  return { ensureContact, forget };
}
