/** The contract between the membership workflow and the CRM sync (Intercom). */
import type { CrmTag } from '../workflows/crm-tags';
import type { MembershipView } from '../workflows/messages';

export interface CrmSyncInput {
  /** Idempotency key of this sync step (member + transition or version). */
  key: string;
  addTags: CrmTag[];
  removeTags: CrmTag[];
  /** The member's newest state when the step runs. */
  member: MembershipView;
}

export interface CrmSync {
  syncContact(input: CrmSyncInput): Promise<{ contactId: string | null }>;
}
