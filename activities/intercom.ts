/**
 * Intercom as memberops' CRM and member messenger, on the real intercom-client v7 (library retries off: Temporal
 * retries the activity). CRM sync: one contact per member, custom attributes from the membership, lifecycle tags
 * applied exactly once per sync key, every call logged, and the lag from webhook hand-off to CRM measured.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { Intercom } from 'intercom-client';
import { Histogram, register } from 'prom-client';
import { createIntercomClient } from '../lib/clients';
import type { Db } from '../lib/db';
import type { Logger } from '../lib/logger';
import type { CrmTag } from '../workflows/crm-tags';
import type { MembershipView } from '../workflows/messages';
import type { CrmSync, CrmSyncInput } from './crm-types';
import { createIntercomCaller, isNonRetryable, type CallScope } from './intercom-calls';
import { createContactResolver, type ContactAttributes, type ContactRef } from './intercom-contacts';
import type { MemberMessenger } from './messenger';

export interface IntercomIntegrationOptions {
  token: string;
  /** Regional host or a local stand-in; Intercom's US host when unset. */
  baseUrl?: string;
  db: Db;
  log: Logger;
  /** Per-request timeout; a timeout is retried like a 5xx. */
  timeoutMs?: number;
}

/** The custom data attributes memberops writes on contacts, created in the workspace when missing. */
export const CRM_ATTRIBUTES: ReadonlyArray<{
  name: string;
  data_type: 'string' | 'date' | 'boolean';
  description: string;
}> = [
  {
    name: 'membership_status',
    data_type: 'string',
    description: 'memberops: membership status (active, grace_period, …)',
  },
  { name: 'stripe_customer_id', data_type: 'string', description: 'memberops: Stripe customer id' },
  { name: 'subscription_id', data_type: 'string', description: 'memberops: Stripe subscription id' },
  { name: 'current_period_end', data_type: 'date', description: 'memberops: end of the paid period' },
  { name: 'access', data_type: 'boolean', description: 'memberops: whether the member may use the app' },
];

export function contactAttributes(m: MembershipView): ContactAttributes {
  return {
    membership_status: m.status,
    stripe_customer_id: m.customerId,
    subscription_id: m.subscriptionId,
    // Intercom date attributes are epoch seconds.
    current_period_end: m.currentPeriodEnd ? Math.floor(Date.parse(m.currentPeriodEnd) / 1000) : null,
    access: m.allowed,
  };
}

const LAG_METRIC = 'memberops_crm_sync_lag_seconds';
/**
 * Webhook hand-off to successful CRM update, on prom-client's default registry (registered on first use). The worker
 * has no HTTP server, so each measurement is also kept in `crm_sync_state.lag_ms`.
 */
export function crmSyncLagHistogram(): Histogram {
  const existing = register.getSingleMetric(LAG_METRIC);
  if (existing) return existing as Histogram;
  return new Histogram({
    name: LAG_METRIC,
    help: 'Time from acknowledging a Stripe webhook to the first successful CRM (Intercom) update after it',
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600],
  });
}

export function createIntercomIntegration(opts: IntercomIntegrationOptions): {
  crm: CrmSync;
  messenger: MemberMessenger;
} {
  const { db, log } = opts;
  const client = createIntercomClient({ token: opts.token, baseUrl: opts.baseUrl, timeoutMs: opts.timeoutMs });
  const call = createIntercomCaller({ db, log });
  const contacts = createContactResolver({ client, db, call, log });

  // Per-process caches of workspace facts; a failed lookup is dropped so the next attempt asks again.
  let attributesReady: Promise<void> | undefined;
  const tagIds = new Map<CrmTag, Promise<string>>();
  let adminId: Promise<string> | undefined;

  function once<T>(make: () => Promise<T>, drop: () => void): Promise<T> {
    const p = make();
    void p.catch(() => drop());
    return p;
  }

  async function createMissingAttributes(scope: CallScope): Promise<void> {
    const r = await call(scope, 'dataAttributes.list', () =>
      client.dataAttributes.list({ model: 'contact' }).withRawResponse(),
    );
    const have = new Set(r.ok ? (r.data.data ?? []).filter((a) => a.custom).map((a) => a.name) : []);
    for (const attribute of CRM_ATTRIBUTES) {
      if (have.has(attribute.name)) continue;
      // intercom-client 7.0.3 types CreateDataAttributeRequest without name/model, though the API requires both.
      const body: Intercom.CreateDataAttributeRequest & { name: string; model: 'contact'; description: string } = {
        ...attribute,
        model: 'contact',
      };
      await call(scope, 'dataAttributes.create', () => client.dataAttributes.create(body).withRawResponse(), {
        // Another worker created it meanwhile: Intercom answers 400 "You already have '…'".
        expect: (f) => f.status === 400 && /already have/i.test(f.message),
      });
    }
  }

  const ensureAttributes = (scope: CallScope): Promise<void> =>
    (attributesReady ??= once(
      () => createMissingAttributes(scope),
      () => (attributesReady = undefined),
    ));

  /** POST /tags is create-or-get by name; the id is kept for the life of the process. */
  function tagId(scope: CallScope, name: CrmTag): Promise<string> {
    let id = tagIds.get(name);
    if (!id) {
      id = once(
        async () => {
          const r = await call(scope, 'tags.create', () => client.tags.create({ name }).withRawResponse());
          if (!r.ok) throw new Error('unreachable: tags.create expects no error answer');
          return r.data.id;
        },
        () => tagIds.delete(name),
      );
      tagIds.set(name, id);
    }
    return id;
  }

  async function recordTagOp(
    scope: CallScope,
    tag: CrmTag,
    op: 'add' | 'remove',
    contactId: string,
    called: boolean,
    requestId?: string,
  ) {
    await db.query(
      `INSERT INTO crm_tag_ops (key, tag, op, customer_id, contact_id, called, request_id) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (key, tag, op) DO NOTHING`,
      [scope.key, tag, op, scope.customerId, contactId, called, requestId ?? null],
    );
  }

  /** Applies the step's tags; ops recorded for this key by an earlier attempt are skipped (exactly once per key). */
  async function applyTags(scope: CallScope, contact: ContactRef, input: CrmSyncInput): Promise<void> {
    if (input.addTags.length === 0 && input.removeTags.length === 0) return;
    const done = new Set(
      (await db.query<{ tag: string; op: string }>('SELECT tag, op FROM crm_tag_ops WHERE key = $1', [input.key])).map(
        (r) => `${r.op}:${r.tag}`,
      ),
    );
    for (const tag of input.addTags) {
      if (done.has(`add:${tag}`)) continue;
      const id = await tagId(scope, tag);
      const r = await call(
        scope,
        'tags.tagContact',
        () => client.tags.tagContact({ contact_id: contact.id, id }).withRawResponse(),
        {
          expect: (f) => f.status === 404,
        },
      );
      if (!r.ok) {
        // The tag was deleted in Intercom since we cached its id (the contact was just updated, so it exists).
        tagIds.delete(tag);
        throw ApplicationFailure.retryable(
          `Intercom tag ${tag} vanished; the next attempt recreates it`,
          'CrmTagVanished',
        );
      }
      await recordTagOp(scope, tag, 'add', contact.id, true, r.requestId);
    }
    for (const tag of input.removeTags) {
      if (done.has(`remove:${tag}`)) continue;
      const id = await tagId(scope, tag);
      if (contact.tagIds && !contact.tagIds.has(id)) {
        // Not on the contact (Intercom's answer listed all its tags): nothing to remove.
        await recordTagOp(scope, tag, 'remove', contact.id, false);
        continue;
      }
      const r = await call(
        scope,
        'tags.untagContact',
        () => client.tags.untagContact({ contact_id: contact.id, tag_id: id }).withRawResponse(),
        {
          // Removing a tag that is not there is what we wanted.
          expect: (f) => f.status === 404,
        },
      );
      await recordTagOp(scope, tag, 'remove', contact.id, true, r.ok ? r.requestId : r.failure.requestId);
    }
  }

  /**
   * Marks the sync done and measures lag: from the newest handed-off Stripe event of the member to now, counted
   * only by the first successful sync after that event (later syncs did not wait for it).
   */
  async function recordSuccess(scope: CallScope, contactId: string): Promise<number | null> {
    const [row] = await db.query<{ lag_ms: number | null }>(
      `WITH ev AS (
         SELECT max(handed_off_at) AS at FROM stripe_events WHERE customer_id = $1 AND outcome = 'handed_off'
       ), m AS (
         SELECT ev.at AS event_at,
                CASE WHEN ev.at IS NOT NULL AND (prev.synced_at IS NULL OR ev.at > prev.synced_at)
                     THEN GREATEST(0, round(extract(epoch FROM clock_timestamp() - ev.at) * 1000))::integer END AS lag_ms
         FROM ev LEFT JOIN crm_sync_state prev ON prev.customer_id = $1
       ), up AS (
         INSERT INTO crm_sync_state (customer_id, contact_id, synced_at, last_key, last_outcome, last_attempt_at, last_error, lag_ms, lag_event_at)
         SELECT $1, $2, clock_timestamp(), $3, 'ok', clock_timestamp(), NULL, m.lag_ms, CASE WHEN m.lag_ms IS NULL THEN NULL ELSE m.event_at END FROM m
         ON CONFLICT (customer_id) DO UPDATE SET
           contact_id = EXCLUDED.contact_id, synced_at = EXCLUDED.synced_at, last_key = EXCLUDED.last_key,
           last_outcome = 'ok', last_attempt_at = EXCLUDED.last_attempt_at, last_error = NULL,
           lag_ms = COALESCE(EXCLUDED.lag_ms, crm_sync_state.lag_ms),
           lag_event_at = COALESCE(EXCLUDED.lag_event_at, crm_sync_state.lag_event_at)
         -- A late-finishing earlier attempt never overwrites a newer success.
         WHERE crm_sync_state.synced_at IS NULL OR crm_sync_state.synced_at <= EXCLUDED.synced_at
       )
       SELECT lag_ms FROM m`,
      [scope.customerId, contactId, scope.key],
    );
    const lagMs = row?.lag_ms ?? null;
    if (lagMs !== null) crmSyncLagHistogram().observe(lagMs / 1000);
    return lagMs;
  }

  async function recordFailure(scope: CallScope, err: unknown): Promise<void> {
    const outcome = isNonRetryable(err) ? 'failed' : 'retry';
    const message = err instanceof Error ? err.message.slice(0, 500) : String(err).slice(0, 500);
    await db.query(
      `INSERT INTO crm_sync_state (customer_id, last_key, last_outcome, last_attempt_at, last_error)
       VALUES ($1, $2, $3, clock_timestamp(), $4)
       ON CONFLICT (customer_id) DO UPDATE SET last_key = EXCLUDED.last_key, last_outcome = EXCLUDED.last_outcome,
         last_attempt_at = EXCLUDED.last_attempt_at, last_error = EXCLUDED.last_error`,
      [scope.customerId, scope.key, outcome, message],
    );
  }

  const crm: CrmSync = {
    async syncContact(input) {
      const m = input.member;
      const scope: CallScope = { customerId: m.customerId, key: input.key, failures: 'temporal' };
      try {
        await ensureAttributes(scope);
        const contact = await contacts.ensureContact(scope, m, contactAttributes(m));
        await applyTags(scope, contact, input);
        const lagMs = await recordSuccess(scope, contact.id);
        log.info(
          {
            customerId: m.customerId,
            key: input.key,
            contactId: contact.id,
            addTags: input.addTags,
            removeTags: input.removeTags,
            lagMs,
          },
          'CRM contact synced',
        );
        return { contactId: contact.id };
      } catch (err) {
        // The status shown on GET /members/:id; the failure itself still goes to Temporal unchanged.
        await recordFailure(scope, err).catch((e: unknown) =>
          log.warn(
            { customerId: m.customerId, err: e instanceof Error ? e.message : String(e) },
            'could not record CRM sync failure',
          ),
        );
        throw err;
      }
    },
  };

  async function senderId(scope: CallScope): Promise<number> {
    adminId ??= once(
      async () => {
        const r = await call(scope, 'admins.identify', () => client.admins.identify().withRawResponse());
        const id = r.ok ? r.data?.id : undefined;
        if (!id) throw new Error('Intercom GET /me answered without an admin id');
        return id;
      },
      () => (adminId = undefined),
    );
    return Number(await adminId);
  }

  async function projectedAppUserId(customerId: string): Promise<string | null> {
    const [row] = await db.query<{ app_user_id: string | null }>(
      'SELECT app_user_id FROM memberships WHERE customer_id = $1',
      [customerId],
    );
    return row?.app_user_id ?? null;
  }

  const messenger: MemberMessenger = {
    channel: 'intercom',
    async send(target, message) {
      const scope: CallScope = { customerId: target.customerId, key: null, failures: 'raw' };
      // The notifier knows the customer and email only; the app user id (the contact's external_id) is projected.
      const appUserId = target.appUserId ?? (await projectedAppUserId(target.customerId));
      const who = { customerId: target.customerId, appUserId, email: target.email };
      const from = { type: 'admin' as const, id: await senderId(scope) };
      const compose = (contactId: string): Intercom.CreateMessageRequest =>
        target.email
          ? {
              message_type: 'email',
              subject: message.subject,
              body: message.body,
              template: 'plain',
              from,
              to: { type: 'user', id: contactId },
            }
          : {
              message_type: 'inapp',
              subject: message.subject,
              body: message.body,
              from,
              to: { type: 'user', id: contactId },
            };
      const send = (contactId: string) =>
        call(scope, 'messages.create', () => client.messages.create(compose(contactId)).withRawResponse(), {
          expect: (f) => f.status === 404,
        });
      let contact = await contacts.ensureContact(scope, who);
      let r = await send(contact.id);
      if (!r.ok) {
        // The remembered contact was deleted in Intercom: resolve the member again and send once more.
        await contacts.forget(target.customerId, contact.id);
        contact = await contacts.ensureContact(scope, who);
        r = await send(contact.id);
        if (!r.ok)
          throw new Error(`Intercom does not know contact ${contact.id} just resolved for ${target.customerId}`);
      }
      return { requestId: r.requestId };
    },
  };

  return { crm, messenger };
}
