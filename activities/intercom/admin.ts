/**
 * The Intercom admin memberops acts as (author of messages, replies, tags and assignments): INTERCOM_ADMIN_ID, or the
 * token's own admin from GET /me, asked once per process.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { IntercomClient } from 'intercom-client';
import { cachedLookup } from './cache';
import type { CallScope, IntercomCall } from './calls';

export interface IntercomAdmin {
  id(scope: CallScope): Promise<string>;
}

export function createIntercomAdmin({
  client,
  call,
  configuredId,
}: {
  client: IntercomClient;
  call: IntercomCall;
  configuredId?: string;
}): IntercomAdmin {
  let me: Promise<string> | undefined;
  return {
    id(scope) {
      if (configuredId) return Promise.resolve(configuredId);
      me ??= cachedLookup(
        async () => {
          const r = await call(scope, 'admins.identify', () => client.admins.identify().withRawResponse());
          const id = r.ok ? r.data?.id : undefined;
          // Retried like any transient answer: the next GET /me may carry the id.
          if (!id)
            throw ApplicationFailure.retryable('Intercom GET /me answered without an admin id', 'IntercomNoAdmin');
          return String(id);
        },
        () => (me = undefined),
      );
      return me;
    },
  };
}
