/**
 * Intercom tags by name, for contacts (CRM lifecycle tags) and conversations (support intents). POST /tags is
 * create-or-get by name; the id is kept for the life of the process in one cache shared by every caller.
 */
import type { IntercomClient } from 'intercom-client';
import { cachedLookup } from './cache';
import type { CallResult, CallScope, IntercomCall, WithRaw } from './calls';

export interface IntercomTags {
  /** The tag's id, created in the workspace when missing. */
  id(scope: CallScope, name: string): Promise<string>;
  /** Drops a cached id the workspace no longer knows (the tag was deleted in Intercom). */
  forget(name: string): void;
  /** Tags a contact; a 404 (the tag vanished since its id was cached) comes back as `ok: false`. */
  tagContact(scope: CallScope, contactId: string, name: string): Promise<CallResult<unknown>>;
  /** Removes a tag from a contact; a 404 (not there, or gone) is what was wanted and comes back as `ok: false`. */
  untagContact(scope: CallScope, contactId: string, name: string): Promise<CallResult<unknown>>;
  /** Tags a conversation as the admin; on failure the cached id is dropped so the next attempt looks it up again. */
  tagConversation(scope: CallScope, conversationId: string, name: string, adminId: string): Promise<void>;
}

const is404 = (f: { status?: number }): boolean => f.status === 404;

export function createIntercomTags({ client, call }: { client: IntercomClient; call: IntercomCall }): IntercomTags {
  const ids = new Map<string, Promise<string>>();

  function id(scope: CallScope, name: string): Promise<string> {
    let found = ids.get(name);
    if (!found) {
      found = cachedLookup(
        async () => {
          const r = await call(scope, 'tags.create', () => client.tags.create({ name }).withRawResponse());
          if (!r.ok) throw new Error('unreachable: tags.create expects no error answer');
          return r.data.id;
        },
        () => ids.delete(name),
      );
      ids.set(name, found);
    }
    return found;
  }

  async function onContact<T>(
    scope: CallScope,
    operation: string,
    name: string,
    send: (tagId: string) => Promise<WithRaw<T>>,
  ): Promise<CallResult<unknown>> {
    const tagId = await id(scope, name);
    return call(scope, operation, () => send(tagId), { expect: is404 });
  }

  return {
    id,
    forget: (name) => void ids.delete(name),
    tagContact: (scope, contactId, name) =>
      onContact(scope, 'tags.tagContact', name, (tagId) =>
        client.tags.tagContact({ contact_id: contactId, id: tagId }).withRawResponse(),
      ),
    untagContact: (scope, contactId, name) =>
      onContact(scope, 'tags.untagContact', name, (tagId) =>
        client.tags.untagContact({ contact_id: contactId, tag_id: tagId }).withRawResponse(),
      ),
    async tagConversation(scope, conversationId, name, adminId) {
      const tagId = await id(scope, name);
      try {
        await call(scope, 'tags.tagConversation', () =>
          client.tags
            .tagConversation({ conversation_id: conversationId, id: tagId, admin_id: adminId })
            .withRawResponse(),
        );
      } catch (err) {
        ids.delete(name);
        throw err;
      }
    },
  };
}
