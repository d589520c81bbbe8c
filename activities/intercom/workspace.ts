/**
 * The one Intercom module of a worker: contacts, tags, messages, conversations, the admin and data attributes, over
 * one client, one call door (logged, classified) and one cache of workspace facts. CRM sync, member notices and
 * support all use it; it is built in `worker/` and injected into `createActivities`.
 */
import type { IntercomClient } from 'intercom-client';
import type { Db } from '../../lib/db';
import type { Logger } from '../../lib/logger';
import { createIntercomAdmin, type IntercomAdmin } from './admin';
import { createIntercomAttributes, type IntercomAttributes } from './attributes';
import { createIntercomCaller } from './calls';
import { createContactResolver } from './contacts';
import { createIntercomConversations, type IntercomConversations } from './conversations';
import { createIntercomMessages, type MemberMessages } from './messages';
import { createIntercomTags, type IntercomTags } from './tags';

export interface IntercomWorkspace {
  readonly contacts: ReturnType<typeof createContactResolver>;
  readonly tags: IntercomTags;
  readonly messages: MemberMessages;
  readonly conversations: IntercomConversations;
  readonly admin: IntercomAdmin;
  readonly attributes: IntercomAttributes;
}

export interface IntercomWorkspaceOptions {
  client: IntercomClient;
  db: Db;
  log: Logger;
  /** INTERCOM_ADMIN_ID; unset: the token's admin, from GET /me. */
  adminId?: string;
}

export function createIntercomWorkspace({ client, db, log, adminId }: IntercomWorkspaceOptions): IntercomWorkspace {
  const call = createIntercomCaller({ db, log });
  const contacts = createContactResolver({ client, db, call, log });
  const admin = createIntercomAdmin({ client, call, configuredId: adminId });
  return {
    contacts,
    tags: createIntercomTags({ client, call }),
    messages: createIntercomMessages({ client, db, call, contacts, admin }),
    conversations: createIntercomConversations({ client, call }),
    admin,
    attributes: createIntercomAttributes({ client, call }),
  };
}
