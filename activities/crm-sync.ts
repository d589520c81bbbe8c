/**
 * CRM sync: one Intercom contact per member, custom attributes from the membership, lifecycle tags applied exactly
 * once per sync key, every call logged, and the lag from webhook hand-off to CRM update measured.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { Db } from '../lib/db';
import type { Logger } from '../lib/logger';
import type { CrmTag } from '../workflows/crm-tags';
import type { MembershipView } from '../workflows/messages';
import { createCrmSyncState } from './crm-sync-state';
import type { AttributeDefinition } from './intercom/attributes';
import type { CallScope } from './intercom/calls';
import type { ContactAttributes, ContactRef } from './intercom/contacts';
import type { IntercomWorkspace } from './intercom/workspace';

/** The contract between the membership workflow and the CRM sync. */
export interface CrmSyncInput {
  /** Idempotency key of this sync step (member + transition or version). */
  key: string;
  addTags: CrmTag[];
  removeTags: CrmTag[];
  /** The member's newest state when the step runs. */
  member: MembershipView;
}

/** The custom data attributes memberops writes on contacts, created in the workspace when missing. */
export const CRM_ATTRIBUTES: ReadonlyArray<AttributeDefinition> = [
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

function contactAttributes(m: MembershipView): ContactAttributes {
  return {
    membership_status: m.status,
    stripe_customer_id: m.customerId,
    subscription_id: m.subscriptionId,
    // Intercom date attributes are epoch seconds.
    current_period_end: m.currentPeriodEnd ? Math.floor(Date.parse(m.currentPeriodEnd) / 1000) : null,
    access: m.allowed,
  };
}

export function createCrmSyncActivities({ db, log, intercom }: { db: Db; log: Logger; intercom?: IntercomWorkspace }) {
  const state = createCrmSyncState(db);

  /** Applies the step's tags; ops recorded for this key by an earlier attempt are skipped (exactly once per key). */
  async function applyTags(
    workspace: IntercomWorkspace,
    scope: CallScope,
    contact: ContactRef,
    input: CrmSyncInput,
  ): Promise<void> {
    if (input.addTags.length === 0 && input.removeTags.length === 0) return;
    const done = await state.doneOps(input.key);
    for (const tag of input.addTags) {
      if (done.has(`add:${tag}`)) continue;
      const r = await workspace.tags.tagContact(scope, contact.id, tag);
      if (!r.ok) {
        // The tag was deleted in Intercom since we cached its id (the contact was just updated, so it exists).
        workspace.tags.forget(tag);
        throw ApplicationFailure.retryable(
          `Intercom tag ${tag} vanished; the next attempt recreates it`,
          'CrmTagVanished',
        );
      }
      await state.recordTagOp(scope, tag, 'add', contact.id, true, r.requestId);
    }
    for (const tag of input.removeTags) {
      if (done.has(`remove:${tag}`)) continue;
      const id = await workspace.tags.id(scope, tag);
      if (contact.tagIds && !contact.tagIds.has(id)) {
        // Not on the contact (Intercom's answer listed all its tags): nothing to remove.
        await state.recordTagOp(scope, tag, 'remove', contact.id, false);
        continue;
      }
      // Removing a tag that is not there (404) is what we wanted.
      const r = await workspace.tags.untagContact(scope, contact.id, tag);
      await state.recordTagOp(scope, tag, 'remove', contact.id, true, r.ok ? r.requestId : r.failure.requestId);
    }
  }

  return {
    /** Brings the member's CRM contact in line with the membership (attributes and lifecycle tags). */
    async syncCrmContact(input: CrmSyncInput): Promise<{ contactId: string | null }> {
      if (!intercom) throw ApplicationFailure.nonRetryable('CRM sync is off (no INTERCOM_ACCESS_TOKEN)', 'CrmDisabled');
      const m = input.member;
      const scope: CallScope = { customerId: m.customerId, key: input.key };
      try {
        await intercom.attributes.ensure(scope, CRM_ATTRIBUTES);
        const contact = await intercom.contacts.ensureContact(scope, m, contactAttributes(m));
        await applyTags(intercom, scope, contact, input);
        const lagMs = await state.recordSuccess(scope, contact.id);
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
        await state
          .recordFailure(scope, err)
          .catch((e: unknown) =>
            log.warn(
              { customerId: m.customerId, err: e instanceof Error ? e.message : String(e) },
              'could not record CRM sync failure',
            ),
          );
        throw err;
      }
    },
  };
}
