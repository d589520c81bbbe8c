/** Lifecycle tags memberops writes to the CRM, and which transition calls for which. Pure. */
import type { MembershipStatus } from './messages';

export type CrmTag = 'trial_started' | 'member_active' | 'payment_failed' | 'payment_recovered' | 'cancelled' | 'refunded';

/**
 * Tags to add and remove for one transition. A tag is added once per transition that calls for it;
 * tags that no longer hold are removed (e.g. `payment_failed` once the member has paid).
 */
export function tagsForTransition(from: MembershipStatus, to: MembershipStatus): { add: CrmTag[]; remove: CrmTag[] } {
  switch (to) {
    case 'trialing':
      return { add: ['trial_started'], remove: ['cancelled', 'refunded', 'payment_failed'] };
    case 'active':
      if (from === 'grace_period' || from === 'past_due') {
        return { add: ['payment_recovered', 'member_active'], remove: ['payment_failed'] };
      }
      return { add: ['member_active'], remove: ['cancelled', 'refunded', 'payment_failed'] };
    case 'grace_period':
      return { add: ['payment_failed'], remove: ['payment_recovered'] };
    case 'past_due':
      return from === 'grace_period' ? { add: [], remove: [] } : { add: ['payment_failed'], remove: ['payment_recovered'] };
    case 'canceled':
      return { add: ['cancelled'], remove: ['member_active', 'trial_started'] };
    case 'refunded':
      return { add: ['refunded'], remove: ['member_active', 'trial_started'] };
    case 'none':
      return { add: [], remove: [] };
  }
}
