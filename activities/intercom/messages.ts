/**
 * Member-facing messages (notices, support replies to members without a conversation): an Intercom message to the
 * member's contact when Intercom is configured, otherwise the log.
 */
import type { Intercom, IntercomClient } from 'intercom-client';
import type { Db } from '../../lib/db';
import type { Logger } from '../../lib/logger';
import type { IntercomAdmin } from './admin';
import type { CallScope, IntercomCall } from './calls';
import type { createContactResolver } from './contacts';

export interface MessageTarget {
  customerId: string;
  email: string | null;
  appUserId?: string | null;
}

export interface MemberMessages {
  readonly channel: 'intercom' | 'log';
  /** Sends one message; throws the failure Temporal should see (the Intercom door classifies it). */
  send(target: MessageTarget, message: { subject: string; body: string }): Promise<{ requestId?: string }>;
}

/** Used when Intercom is not configured: the message is logged (without the body's links) and counted as sent. */
export function createLogMessages(log: Logger): MemberMessages {
  return {
    channel: 'log',
    async send(target, message) {
      log.info(
        { customerId: target.customerId, subject: message.subject },
        'member notice (Intercom not configured: logged only)',
      );
      return {};
    },
  };
}

export function createIntercomMessages({
  client,
  db,
  call,
  contacts,
  admin,
}: {
  client: IntercomClient;
  db: Db;
  call: IntercomCall;
  contacts: ReturnType<typeof createContactResolver>;
  admin: IntercomAdmin;
}): MemberMessages {
  async function projectedAppUserId(customerId: string): Promise<string | null> {
    const [row] = await db.query<{ app_user_id: string | null }>(
      'SELECT app_user_id FROM memberships WHERE customer_id = $1',
      [customerId],
    );
    return row?.app_user_id ?? null;
  }

  return {
    channel: 'intercom',
    async send(target, message) {
      const scope: CallScope = { customerId: target.customerId, key: null };
      // The notifier knows the customer and email only; the app user id (the contact's external_id) is projected.
      const appUserId = target.appUserId ?? (await projectedAppUserId(target.customerId));
      const who = { customerId: target.customerId, appUserId, email: target.email };
      const from = { type: 'admin' as const, id: Number(await admin.id(scope)) };
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
}
